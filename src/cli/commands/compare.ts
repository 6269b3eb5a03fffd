import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { compare, type CompareSettings, leaderboardText } from '../../compare/index.js';
import { ConfigError } from '../../errors.js';
import { didYouMean } from '../../peft/index.js';
import { numberFlag, parse, required, UsageError } from '../args.js';
import type { Output } from '../output.js';

const USAGE = 'peft-ts compare --model DIR --tasks spam --methods lora,ia3,icl [--seeds 3] [--train-sizes 16,64,all] [--epochs 2] [--lr 1e-3] [--batch-size 8] [--eval-limit N] [--heldout-docs 4] [--config FILE] [--queue redis://host:port] [--workers N] --out DIR [--json]';

/** The settings a --config file may hold (YAML or JSON), with per-method adapter fields and overrides. */
const FILE_KEYS = ['epochs', 'lr', 'batch_size', 'eval_limit', 'heldout_docs', 'methods'] as const;

function readCompareConfig(path: string): Record<string, unknown> {
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    raw = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`[compare] ${path} could not be read: ${(cause as Error).message.split('\n')[0]}`, { hint: 'Fix the file (YAML or JSON).', cause });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`[compare] ${path} must hold a mapping.`, { hint: `Keys: ${FILE_KEYS.join(', ')}.` });
  for (const key of Object.keys(raw)) {
    if (!(FILE_KEYS as readonly string[]).includes(key)) {
      const guess = didYouMean(key, FILE_KEYS);
      throw new ConfigError(`[compare] ${path}: unknown setting '${key}'.`, { hint: guess ? `Did you mean '${guess}'?` : `Keys: ${FILE_KEYS.join(', ')}.` });
    }
  }
  const methods = (raw as Record<string, unknown>).methods;
  if (methods !== undefined) {
    if (!methods || typeof methods !== 'object' || Array.isArray(methods)) throw new ConfigError(`[compare] ${path}: methods must map a method name to { peft, lr, epochs }.`, { hint: 'For example methods: { ia3: { lr: 0.01 } }.' });
    for (const [name, entry] of Object.entries(methods)) {
      for (const key of Object.keys(entry ?? {})) if (!['method', 'peft', 'lr', 'epochs'].includes(key)) throw new ConfigError(`[compare] ${path}: methods.${name}.${key} is not a setting.`, { hint: 'Per method: method (a registered method this label is a variant of), peft (adapter_config.json fields), lr, epochs.' });
    }
  }
  return raw as Record<string, unknown>;
}

export async function compareCommand(argv: string[], out: Output): Promise<void> {
  const { values } = parse(argv, {
    model: { type: 'string' }, tasks: { type: 'string' }, methods: { type: 'string' }, seeds: { type: 'string' }, 'train-sizes': { type: 'string' },
    epochs: { type: 'string' }, lr: { type: 'string' }, 'batch-size': { type: 'string' }, 'eval-limit': { type: 'string' }, 'heldout-docs': { type: 'string' },
    config: { type: 'string' }, queue: { type: 'string' }, workers: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' },
  }, USAGE);
  const file = typeof values.config === 'string' ? readCompareConfig(values.config) : {};
  const num = (flag: string, key: string, fallback: number, integer = false) => {
    const fromFile = file[key];
    const text = typeof values[flag] === 'string' ? (values[flag] as string) : fromFile !== undefined ? String(fromFile) : undefined;
    return numberFlag(text, `--${flag}`, fallback, (n) => Number.isFinite(n) && n >= 0 && (!integer || Number.isInteger(n)));
  };
  const sizes = (typeof values['train-sizes'] === 'string' ? values['train-sizes'] : 'all').split(',').map((s) => s.trim()).map((s) => {
    if (s === 'all') return 0;
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`[cli] --train-sizes entry '${s}' is not a positive integer or 'all'.`, 'For example --train-sizes 16,64,all.');
    return n;
  });
  const settings: CompareSettings = {
    model: required(values.model, '--model', USAGE),
    epochs: num('epochs', 'epochs', 2), lr: num('lr', 'lr', 1e-3), batchSize: num('batch-size', 'batch_size', 8, true),
    evalLimit: num('eval-limit', 'eval_limit', 0, true), heldoutDocs: num('heldout-docs', 'heldout_docs', 4, true),
    methods: (file.methods ?? {}) as CompareSettings['methods'],
  };
  const report = await compare({
    tasks: required(values.tasks, '--tasks', USAGE).split(',').map((t) => t.trim()),
    methods: required(values.methods, '--methods', USAGE).split(',').map((m) => m.trim()),
    seeds: num('seeds', 'seeds', 3, true), sizes, settings,
    outDir: required(values.out, '--out', USAGE),
    queue: typeof values.queue === 'string' ? values.queue : undefined,
    workers: typeof values.workers === 'string' ? num('workers', 'workers', 1, true) : undefined,
    onLine: (l) => out.note(l),
  });
  if (values.json === true) out.json(report);
  else out.line(`${leaderboardText(report)}\n\nreport: ${values.out}/report/index.html (results.json beside it)`);
}
