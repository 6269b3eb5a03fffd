import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBackend, type Backend } from '../src/backend/index.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Reference checkpoints and PyTorch outputs, kept in the repository (a copy of ../shared/fixtures) so a plain clone tests. */
export const fixturesDir = join(repoRoot, 'test', 'fixtures');

export function nativeAvailable(): boolean {
  return existsSync(join(repoRoot, 'build', 'Release', 'peft_native.node'));
}

/** Every backend this machine can run: js always, native when the addon is built. */
export function availableBackends(): Backend[] {
  return nativeAvailable() ? [createBackend('js'), createBackend('native')] : [createBackend('js')];
}

/** Element-wise |actual - expected| <= atol + rtol * |expected|, with the worst element in the message. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  let worst = -1,
    worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    const excess = err - (atol + rtol * Math.abs(expected[i]));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) assert.fail(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`);
}
