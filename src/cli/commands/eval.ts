import { basename, resolve } from 'node:path';
import { describeRun, evaluate, lmScorer, resolveTask, summaryText, writeReport, type Variant } from '../../eval/index.js';
import { resolveModelDir } from '../../io/index.js';
import { loadAdapter, PeftModel } from '../../peft/index.js';
import { defineCommand } from '../command.js';
import { ADAPTER_FLAG, DTYPE_FLAG, JSON_FLAG, loadDType, MODEL_FLAGS } from '../flags.js';
import { ProgressBar } from '../progress.js';
import { causalLMWithAdapters, loadTokenizer } from './model-io.js';
import { checkOutputFolder } from '../output-folder.js';

/**
 * Variants to compare on the same items: the base model, then each adapter alone. An adapter is
 * loaded for its own scoring and deleted after, so adapters of different methods on the same
 * layers (a LoRA and an IA3) each see the loaded model, as they would alone.
 */
export function variantsFor(peft: PeftModel, adapters: readonly { name: string; path: string }[]): Variant[] {
  return [
    { name: 'base', run: (fn) => fn() },
    ...adapters.map(
      ({ name, path }): Variant => ({
        name,
        run: (fn) => {
          loadAdapter(peft, path, name);
          try {
            return fn();
          } finally {
            peft.deleteAdapter(name);
          }
        },
      }),
    ),
  ];
}

export const evalCommand = defineCommand({
  name: 'eval',
  summary: 'score base and adapted models on the same items: paired deltas, intervals, calibration',
  flags: {
    ...MODEL_FLAGS,
    adapter: { ...ADAPTER_FLAG.adapter, help: 'adapter folder to score beside the base; repeat to score several, each alone (of any methods)' },
    ...DTYPE_FLAG,
    tasks: { type: 'list', required: true, metavar: 'A,B', help: 'bundled task names or task files (JSON/YAML)' },
    limit: { type: 'int', min: 0, default: 0, help: 'items per task; 0 for all' },
    'batch-size': { type: 'int', min: 1, default: 16, help: 'prompts scored per forward pass' },
    seed: { type: 'int', default: 0, help: 'seed for few-shot example choice' },
    report: { type: 'string', metavar: 'DIR', help: 'write an HTML report (index.html) here' },
    overwrite: { type: 'boolean', default: false, help: 'write the report into --report even when it is not empty' },
    ...JSON_FLAG,
  },
  async run(v, { out }) {
    // Before any scoring: a report folder that holds work is never replaced without --overwrite.
    if (v.report !== undefined) checkOutputFolder(v.report, '--report', v.overwrite);
    const tasks = v.tasks.map((t) => resolveTask(t));
    const dir = await resolveModelDir(v.model, { revision: v.revision });
    const model = causalLMWithAdapters(dir, [], { out, dtype: loadDType(v.dtype) });
    const tokenizer = loadTokenizer(dir);
    const peft = new PeftModel(model);
    const names = v.adapter.map((p, i) => `${basename(resolve(p)).replace(/[^A-Za-z0-9_-]/g, '_')}${v.adapter.length > 1 ? `_${i}` : ''}`);
    const adapters = names.map((name, i) => ({ name, path: v.adapter[i] }));
    // Each adapter loads once here, so a broken folder fails before the (long) scoring and loses nothing.
    for (const { name, path } of adapters) {
      loadAdapter(peft, path, name);
      peft.deleteAdapter(name);
    }
    const limit = v.limit || undefined;
    const run = describeRun({ model: v.model, adapters, tasks: tasks.map((t) => t.name), limit, seed: v.seed });
    const bars = new Map<string, { bar: ProgressBar; start: number }>();
    const report = evaluate(lmScorer(model, tokenizer, { batchSize: v['batch-size'] }), variantsFor(peft, adapters), tasks, {
      limit,
      seed: v.seed,
      onProgress: ({ task, variant, done, total }) => {
        const key = `${task} ${variant}`;
        if (!bars.has(key)) bars.set(key, { bar: new ProgressBar(key, (t) => out.progress(t)), start: performance.now() });
        const { bar, start } = bars.get(key)!;
        bar.update(done, total, {}, (performance.now() - start) / 1000);
      },
    });
    if (v.report !== undefined) {
      writeReport(report, v.report, { title: `peft-ts evaluation of ${v.model}`, run });
      out.note(`report written to ${v.report}/index.html`);
    }
    if (v.json) out.json({ variants: report.variants, tasks: report.tasks });
    else out.line(summaryText(report));
  },
});
