/**
 * `npm run demo`: the whole loop on the bundled model and task. LoRA fine-tunes models/default
 * on SpamAssassin (ham vs spam), evaluates base and adapted on the same held-out emails and on
 * held-out text, prints accuracy with 95% intervals and the paired change, and writes the
 * adapter (HF PEFT format) and an HTML report under runs/demo/.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { shuffled, spamTask, validationSplit } from '../src/data/index.js';
import { bundledEvalTask, describeRun, evaluate, formatValue, lmScorer, summaryText, writeReport, type Variant } from '../src/eval/index.js';
import { HFTokenizer, writeTextAtomic } from '../src/io/index.js';
import { loadPretrained, type CausalLM } from '../src/models/index.js';
import { PeftModel, saveAdapters } from '../src/peft/index.js';
import { manualSeed } from '../src/tensor/index.js';
import { DEFAULT_TRAIN_CONFIG, encodeChoiceItems, labelWordTarget, trainLoop } from '../src/train/index.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/default' },
    out: { type: 'string', default: 'runs/demo' },
    'train-examples': { type: 'string', default: '3200' },
    'heldout-docs': { type: 'string', default: '12' },
    seed: { type: 'string', default: '0' },
    epochs: { type: 'string', default: '2' },
    lr: { type: 'string', default: '1e-3' },
    r: { type: 'string', default: '16' },
    targets: { type: 'string', default: 'all-linear' },
  },
});
const modelDir = values.model!,
  outDir = values.out!;
if (!existsSync(join(modelDir, 'model.safetensors'))) {
  console.error(`demo: ${modelDir} has no model.safetensors. The bundled model ships in the repository; or rebuild it with npm run pretrain.`);
  process.exit(1);
}
const seed = Number(values.seed);
manualSeed(seed);
const started = performance.now();
const model = loadPretrained(modelDir).model as CausalLM;
const tokenizer = HFTokenizer.fromDir(modelDir);
const task = spamTask();
// The task's train split is ordered by source folder (all ham first): draw the subset at random.
const { train: trainItems, validation: validationItems } = validationSplit(shuffled(task.train, seed).slice(0, Number(values['train-examples'])), 0.1, seed);
// The whole prompt fits the model's context, so training sees what evaluation sees (subject included).
const maxLength = model.config.maxPositions;
const trainSet = encodeChoiceItems(trainItems, tokenizer, maxLength),
  validationSet = encodeChoiceItems(validationItems, tokenizer, maxLength);
console.error(`spam: ${trainItems.length} training emails (${trainSet.truncated} cut to ${maxLength} tokens), ${validationItems.length} for validation, ${task.test.length} held-out test emails`);

const peft = new PeftModel(model, { seed });
const r = Number(values.r),
  targets = values.targets === 'all-linear' ? 'all-linear' : values.targets!.split(',');
peft.addAdapter('default', { peft_type: 'LORA', task_type: 'CAUSAL_LM', r, lora_alpha: 2 * r, lora_dropout: 0.05, target_modules: targets, base_model_name_or_path: modelDir });
const params = peft.trainableParameters();
console.error(`LoRA r=${r} on ${values.targets}: ${params.trainable.toLocaleString('en-US')} trainable of ${params.total.toLocaleString('en-US')} parameters (${params.percent.toFixed(2)}%)`);

const adapterDir = join(outDir, 'adapter');
const labelTokens = task.train[0].choices.map((c) => tokenizer.encode(c, { addSpecialTokens: false })[0]);
const result = await trainLoop(
  labelWordTarget(model, labelTokens, (dir) => {
    saveAdapters(peft, dir, { baseModelNameOrPath: modelDir });
  }),
  { train: trainSet.examples, validation: validationSet.examples },
  {
    ...DEFAULT_TRAIN_CONFIG,
    epochs: Number(values.epochs),
    batchSize: 16,
    lr: Number(values.lr),
    warmupSteps: 5,
    schedule: 'linear',
    padId: tokenizer.eosTokenId ?? 0,
    seed,
    outputDir: adapterDir,
  },
  {
    onStep: (e) => {
      if (e.step % 10 === 0 || e.step === e.totalSteps) console.error(`  step ${e.step}/${e.totalSteps}  loss ${e.loss.toFixed(4)}  ${e.tokensPerSecond.toFixed(0)} tokens/s`);
    },
  },
);
console.error(`trained ${result.steps} steps in ${result.seconds.toFixed(0)} s; validation loss ${result.bestEvalLoss?.toFixed(4)}`);

const heldout = bundledEvalTask('heldout-perplexity');
heldout.items = heldout.items.slice(0, Number(values['heldout-docs']));
const variants: Variant[] = [
  { name: 'base', run: (fn) => peft.withAdaptersDisabled(fn) },
  {
    name: 'lora',
    run: (fn) => {
      peft.setAdapter('default');
      return fn();
    },
  },
];
writeTextAtomic(join(adapterDir, 'training_args.json'), `${JSON.stringify({ ...values, model: modelDir, task: 'spam' }, null, 2)}\n`);
const report = evaluate(lmScorer(model, tokenizer, { batchSize: 32 }), variants, [bundledEvalTask('spam'), heldout], {
  seed,
  onProgress: ({ task, variant, done, total }) => {
    if (done === total) console.error(`evaluated ${task} with ${variant} (${total} items)`);
  },
});
const run = describeRun({ model: modelDir, adapters: [{ name: 'lora', path: adapterDir }], tasks: report.tasks.map((t) => t.name), seed });
writeReport(report, join(outDir, 'report'), { title: 'peft-ts demo: LoRA on SpamAssassin', run });

const acc = report.tasks[0].metrics.acc;
const d = acc.deltas.lora;
console.log(summaryText(report));
console.log(
  `\nspam accuracy: base ${formatValue('acc', acc.values.base.mean)} [${formatValue('acc', acc.values.base.ci95[0])}, ${formatValue('acc', acc.values.base.ci95[1])}]` +
    ` -> LoRA ${formatValue('acc', acc.values.lora.mean)} [${formatValue('acc', acc.values.lora.ci95[0])}, ${formatValue('acc', acc.values.lora.ci95[1])}];` +
    ` paired change ${(100 * d.mean).toFixed(1)} points [${(100 * d.ci95[0]).toFixed(1)}, ${(100 * d.ci95[1]).toFixed(1)}] (McNemar p=${d.mcnemarP?.toPrecision(2)})`,
);
console.log(`adapter: ${adapterDir} (HF PEFT format)   report: ${join(outDir, 'report', 'index.html')}   total ${((performance.now() - started) / 1000).toFixed(0)} s`);
