import { basename, resolve } from 'node:path';
import { evaluate, lmScorer, resolveTask, summaryText, writeReport, type Variant } from '../../eval/index.js';
import { HFTokenizer, resolveModelDir } from '../../io/index.js';
import { loadAdapter, PeftModel } from '../../peft/index.js';
import { defineCommand } from '../command.js';
import { ADAPTER_FLAG, JSON_FLAG, MODEL_FLAGS } from '../flags.js';
import { causalLMWithAdapters } from './model-io.js';

/** Variants to compare on the same items: the base model, then each adapter alone. */
export function variantsFor(peft: PeftModel, adapters: string[]): Variant[] {
  return [
    { name: 'base', run: (fn) => peft.withAdaptersDisabled(fn) },
    ...adapters.map((name): Variant => ({ name, run: (fn) => { peft.setAdapter(name); return fn(); } })),
  ];
}

export const evalCommand = defineCommand({
  name: 'eval',
  summary: 'score base and adapted models on the same items: paired deltas, intervals, calibration',
  flags: {
    ...MODEL_FLAGS, ...ADAPTER_FLAG,
    tasks: { type: 'list', required: true, metavar: 'A,B', help: 'bundled task names or task files (JSON/YAML)' },
    limit: { type: 'int', min: 0, default: 0, help: 'items per task; 0 for all' },
    'batch-size': { type: 'int', min: 1, default: 16, help: 'prompts scored per forward pass' },
    seed: { type: 'int', default: 0, help: 'seed for few-shot example choice' },
    report: { type: 'string', metavar: 'DIR', help: 'write an HTML report (index.html) here' },
    ...JSON_FLAG,
  },
  async run(v, { out }) {
    const tasks = v.tasks.map((t) => resolveTask(t));
    const dir = await resolveModelDir(v.model, { revision: v.revision });
    const model = causalLMWithAdapters(dir);
    const tokenizer = HFTokenizer.fromDir(dir);
    const peft = new PeftModel(model);
    const names = v.adapter.map((p, i) => `${basename(resolve(p)).replace(/[^A-Za-z0-9_-]/g, '_')}${v.adapter.length > 1 ? `_${i}` : ''}`);
    v.adapter.forEach((p, i) => loadAdapter(peft, p, names[i]));
    const report = evaluate(lmScorer(model, tokenizer, { batchSize: v['batch-size'] }), variantsFor(peft, names), tasks, {
      limit: v.limit || undefined,
      seed: v.seed,
      onTask: (task, variant) => out.note(`evaluating ${task} with ${variant}...`),
    });
    if (v.report !== undefined) {
      writeReport(report, v.report, { title: `peft-ts evaluation of ${v.model}`, model: v.model, adapters: Object.fromEntries(names.map((n, i) => [n, v.adapter[i]])) });
      out.note(`report written to ${v.report}/index.html`);
    }
    if (v.json) out.json({ variants: report.variants, tasks: report.tasks });
    else out.line(summaryText(report));
  },
});
