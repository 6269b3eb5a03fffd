import { compare, type CompareSettings, leaderboardText } from '../../compare/index.js';
import { ConfigError } from '../../errors.js';
import { defineCommand, UsageError } from '../command.js';
import { JSON_FLAG } from '../flags.js';

/** A config file's methods: block maps a method label to { method, peft, lr, epochs }. */
function methodSettings(block: unknown): CompareSettings['methods'] {
  if (block === undefined) return {};
  if (!block || typeof block !== 'object' || Array.isArray(block))
    throw new ConfigError('[compare] methods: must map a method name to { peft, lr, epochs }.', { hint: 'For example methods: { ia3: { lr: 0.01 } }.' });
  for (const [name, entry] of Object.entries(block)) {
    for (const key of Object.keys(entry ?? {}))
      if (!['method', 'peft', 'lr', 'epochs'].includes(key))
        throw new ConfigError(`[compare] methods.${name}.${key} is not a setting.`, {
          hint: 'Per method: method (a registered method this label is a variant of), peft (adapter_config.json fields), lr, epochs.',
        });
  }
  return block as CompareSettings['methods'];
}

export const compareCommand = defineCommand({
  name: 'compare',
  summary: 'methods x seeds x training sizes on a task: a leaderboard with paired intervals (local pool or a Redis queue)',
  flags: {
    model: { type: 'string', required: true, metavar: 'DIR', help: 'the base model folder every job trains from' },
    tasks: { type: 'list', required: true, metavar: 'A,B', help: 'bundled tasks to compare on (e.g. spam)' },
    methods: { type: 'list', required: true, metavar: 'A,B', help: "PEFT methods (peft-ts methods lists them) and 'icl' for in-context learning" },
    seeds: { type: 'int', min: 1, default: 3, help: 'training seeds per method and size' },
    'train-sizes': { type: 'list', default: ['all'], metavar: 'N,...', help: "training-set sizes: positive integers or 'all'" },
    epochs: { type: 'number', min: 0, default: 2, help: 'passes over the training data per job' },
    lr: { type: 'number', min: 0, default: 1e-3, help: 'learning rate (per method in the config file)' },
    'batch-size': { type: 'int', min: 1, default: 8, help: 'examples per batch' },
    'eval-limit': { type: 'int', min: 0, default: 0, help: 'evaluation items per task; 0 for all' },
    'heldout-docs': { type: 'int', min: 0, default: 4, help: 'held-out documents for the cost on text' },
    config: { type: 'string', metavar: 'FILE', help: 'YAML/JSON: any flag above, and a methods: block of per-method { peft, lr, epochs }' },
    queue: { type: 'string', metavar: 'redis://HOST:PORT', help: 'run the jobs through a BullMQ queue served by peft-ts worker' },
    workers: { type: 'int', min: 1, help: 'local child processes (default: one per core)' },
    out: { type: 'string', required: true, metavar: 'DIR', help: 'job results, results.json and the report' },
    ...JSON_FLAG,
  },
  config: { blocks: ['methods'] },
  async run(v, { out, blocks }) {
    const sizes = v['train-sizes'].map((s) => {
      if (s === 'all') return 0;
      const n = Number(s);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`[cli] --train-sizes entry '${s}' is not a positive integer or 'all'.`, 'For example --train-sizes 16,64,all.');
      return n;
    });
    const settings: CompareSettings = {
      model: v.model,
      epochs: v.epochs,
      lr: v.lr,
      batchSize: v['batch-size'],
      evalLimit: v['eval-limit'],
      heldoutDocs: v['heldout-docs'],
      methods: methodSettings(blocks.methods),
    };
    const report = await compare({
      tasks: v.tasks,
      methods: v.methods,
      seeds: v.seeds,
      sizes,
      settings,
      outDir: v.out,
      queue: v.queue,
      workers: v.workers,
      onLine: (l) => out.note(l),
    });
    if (v.json) out.json(report);
    else out.line(`${leaderboardText(report)}\n\nreport: ${v.out}/report/index.html (results.json beside it)`);
  },
});
