import { existsSync } from 'node:fs';
import { BackendError } from '../errors.js';
import type { Backend } from './backend.js';
import { jsBackend } from './js/index.js';
import { addonPath, loadNativeBackend } from './native/binding.js';

let current: Backend | null = null;
let noticeShown = false;

function threadsFromEnv(): number | undefined {
  const raw = process.env.PEFT_TS_THREADS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new BackendError(`[backend] PEFT_TS_THREADS='${raw}' is not a positive integer.`, { hint: 'Set it to the number of threads to use, e.g. PEFT_TS_THREADS=2.' });
  return n;
}

/** Loads a backend by name; 'native' throws a BackendError that says how to build it. */
export function createBackend(name: 'js' | 'native'): Backend {
  if (name === 'js') return jsBackend;
  const path = addonPath();
  if (!existsSync(path)) {
    throw new BackendError(`[backend] the native backend is not built (${path} is missing).`, {
      hint: 'Install OpenBLAS and a compiler (Debian: apt-get install -y libopenblas-dev g++ make), then run `npm rebuild peft-ts` (or `npm run build:native` in a checkout).',
    });
  }
  try {
    return loadNativeBackend(threadsFromEnv());
  } catch (cause) {
    throw new BackendError(`[backend] the native backend failed to load from ${path}.`, { hint: 'Rebuild it with `npm rebuild peft-ts`.', cause });
  }
}

/**
 * The backend every op runs on: PEFT_TS_BACKEND if set, else native when built, else js
 * with a one-line notice on stderr saying how to get native.
 */
export function getBackend(): Backend {
  if (current) return current;
  const forced = process.env.PEFT_TS_BACKEND;
  if (forced !== undefined && forced !== '') {
    if (forced !== 'js' && forced !== 'native') throw new BackendError(`[backend] PEFT_TS_BACKEND='${forced}' is not a backend.`, { hint: "Use 'js' or 'native'." });
    current = createBackend(forced);
    return current;
  }
  try {
    current = createBackend('native');
  } catch (error) {
    if (!noticeShown) {
      noticeShown = true;
      process.emitWarning(`peft-ts is using its TypeScript backend, which is ~100x slower than native. ${(error as BackendError).hint ?? ''}`, { code: 'PEFT_TS_JS_BACKEND' });
    }
    current = jsBackend;
  }
  return current;
}

/** Makes `backend` the one every op runs on (tests use this to compare backends). */
export function setBackend(backend: Backend): void {
  current = backend;
}
