import { basename, resolve } from 'node:path';
import { describeRun, evaluate, lmScorer, resolveTask, summaryText, writeReport, type Variant } from '../../eval/index.js';
import { HFTokenizer } from '../../io/index.js';
import { loadAdapter, PeftModel } from '../../peft/index.js';
import { adapterFlags, dtypeFlag, numberFlag, parse, required } from '../args.js';
import type { Output } from '../output.js';
import { ProgressBar } from '../progress.js';
import { loadCausalLM } from './model-io.js';

const USAGE = 'peft-ts eval --model DIR [--adapter DIR]... [--dtype auto|float32|bf16] --tasks a,b [--limit N] [--batch-size N] [--report DIR] [--json]';

/** Variants to compare on the same items: the base model, then each adapter alone. */
export function variantsFor(peft: PeftModel, adapters: string[]): Variant[] {
  return [
    { name: 'base', run: (fn) => peft.withAdaptersDisabled(fn) },
    ...adapters.map((name): Variant => ({ name, run: (fn) => { peft.setAdapter(name); return fn(); } })),
  ];
}

export function evalCommand(argv: string[], out: Output): void {
  const { values } = parse(argv, {
    model: { type: 'string' }, adapter: { type: 'string', multiple: true }, dtype: { type: 'string' }, tasks: { type: 'string' }, limit: { type: 'string' },
    'batch-size': { type: 'string' }, report: { type: 'string' }, json: { type: 'boolean' }, seed: { type: 'string' },
  }, USAGE);
  const dir = required(values.model, '--model', USAGE);
  const tasks = required(values.tasks, '--tasks', USAGE).split(',').map((t) => resolveTask(t.trim()));
  const model = loadCausalLM(dir, [], { out, dtype: dtypeFlag(values.dtype) });
  const tokenizer = HFTokenizer.fromDir(dir);
  const peft = new PeftModel(model);
  const paths = adapterFlags(values.adapter);
  const names = paths.map((p, i) => `${basename(resolve(p)).replace(/[^A-Za-z0-9_-]/g, '_')}${paths.length > 1 ? `_${i}` : ''}`);
  paths.forEach((p, i) => loadAdapter(peft, p, names[i]));
  const limit = numberFlag(values.limit, '--limit', 0, Number.isInteger) || undefined;
  const seed = numberFlag(values.seed, '--seed', 0, Number.isInteger);
  // Read before the (long) scoring, so a broken adapter folder fails fast and loses nothing.
  const run = describeRun({ model: dir, adapters: names.map((name, i) => ({ name, path: paths[i] })), tasks: tasks.map((t) => t.name), limit, seed });
  const bars = new Map<string, { bar: ProgressBar; start: number }>();
  const report = evaluate(lmScorer(model, tokenizer, { batchSize: numberFlag(values['batch-size'], '--batch-size', 16, Number.isInteger) }), variantsFor(peft, names), tasks, {
    limit, seed,
    onProgress: ({ task, variant, done, total }) => {
      const key = `${task} ${variant}`;
      if (!bars.has(key)) bars.set(key, { bar: new ProgressBar(key, (t) => out.progress(t)), start: performance.now() });
      const { bar, start } = bars.get(key)!;
      bar.update(done, total, {}, (performance.now() - start) / 1000);
    },
  });
  if (typeof values.report === 'string') {
    writeReport(report, values.report, { title: `peft-ts evaluation of ${dir}`, run });
    out.note(`report written to ${values.report}/index.html`);
  }
  if (values.json) out.json({ variants: report.variants, tasks: report.tasks });
  else out.line(summaryText(report));
}
