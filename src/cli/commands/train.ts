import { ArgumentError } from '../../errors.js';
import { bundledTask, readRecords, shuffled, validationSplit } from '../../data/index.js';
import { join } from 'node:path';
import { writeTextAtomic } from '../../io/index.js';
import { packageVersion } from '../../package.js';
import { PeftModel, saveAdapters, type PeftConfigInput } from '../../peft/index.js';
import { virtualTokensOf } from '../../models/index.js';
import { manualSeed } from '../../tensor/index.js';
import { causalLMTarget, DEFAULT_TRAIN_CONFIG, encodeChoiceItems, encodeRecords, labelWordTarget, train, type Encoded, type LMExample } from '../../train/index.js';
import { dtypeFlag, parse, required, numberFlag, UsageError } from '../args.js';
import { readSettingsFile } from '../config-file.js';
import { methodFieldFlags, peftConfigFromFlags } from '../method-flags.js';
import type { Output } from '../output.js';
import { checkOutputFolder } from '../output-folder.js';
import { ProgressBar } from '../progress.js';
import { loadCausalLM, loadTokenizer } from './model-io.js';

const USAGE = 'peft-ts train --model DIR (--data FILE | --task NAME) --out DIR [--overwrite] [--method lora] [--peft-config FILE] [--<method field> VALUE]... [--epochs N] [--lr X] [--dtype auto|float32|bf16] ... [--config FILE] [--json]';

const STRING_FLAGS = [
  'model', 'data', 'task', 'out', 'method', 'peft-config', ...methodFieldFlags().valued, 'epochs', 'max-steps',
  'batch-size', 'grad-accum', 'lr', 'schedule', 'warmup-steps', 'weight-decay', 'max-grad-norm', 'optimizer', 'seed', 'max-length',
  'validation-fraction', 'validation-data', 'eval-every', 'patience', 'checkpoint-every', 'resume', 'prompt-field', 'completion-field',
  'text-field', 'messages-field', 'template', 'limit', 'config', 'dtype',
] as const;
const BOOLEAN_FLAGS = ['json', 'no-group-by-length', 'overwrite', ...methodFieldFlags().switches] as const;

export async function trainCommand(argv: string[], out: Output, shouldStop: () => boolean = () => false): Promise<void> {
  const options = Object.fromEntries([...STRING_FLAGS.map((f) => [f, { type: 'string' as const }]), ...BOOLEAN_FLAGS.map((f) => [f, { type: 'boolean' as const }])]);
  const { values: flags } = parse(argv, options, USAGE);
  const fromFile = typeof flags.config === 'string' ? readSettingsFile(flags.config, [...STRING_FLAGS, ...BOOLEAN_FLAGS]) : {};
  const v = { ...fromFile, ...Object.fromEntries(Object.entries(flags).filter(([, x]) => x !== undefined)) };
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const int = (k: string, d: number) => numberFlag(str(k), `--${k}`, d, (n) => Number.isInteger(n) && n >= 0);
  const real = (k: string, d: number) => numberFlag(str(k), `--${k}`, d, (n) => Number.isFinite(n) && n >= 0);

  const modelDir = required(str('model'), '--model', USAGE);
  const outDir = required(str('out'), '--out', USAGE);
  checkOutputFolder(outDir, '--out', v.overwrite === true || str('resume') !== undefined);
  // The CLI's LoRA defaults (PEFT's are alpha 8, no dropout): what fine-tuning recipes use.
  const { method, config: peftConfig } = peftConfigFromFlags(v, { lora_alpha: 16, lora_dropout: 0.05 });
  if (!str('data') === !str('task')) throw new UsageError('[train] pass exactly one of --data FILE or --task NAME.', `Usage: ${USAGE}`);

  const seed = int('seed', 0);
  manualSeed(seed);
  // Only the frozen base is stored as --dtype; the adapter and optimiser state stay float32.
  const model = loadCausalLM(modelDir, [], { out, dtype: dtypeFlag(str('dtype')) });
  const tokenizer = loadTokenizer(modelDir);
  // The adapter comes first: a prompt-based method's virtual tokens take positions in front of every example.
  const peft = new PeftModel(model, { seed, tokenize: (text) => tokenizer.encode(text) });
  peft.addAdapter('default', { task_type: 'CAUSAL_LM', ...peftConfig, base_model_name_or_path: modelDir } as PeftConfigInput);
  const context = model.config.maxPositions - virtualTokensOf(model);
  const maxLength = int('max-length', Math.min(512, context));
  if (maxLength > context) throw new ArgumentError(`[train] --max-length ${maxLength} exceeds the ${context} positions the model's ${model.config.maxPositions} leave${context < model.config.maxPositions ? ' after the virtual tokens' : ''}.`, `Use at most ${context}.`);

  let encoded: Encoded, validation: LMExample[] | undefined;
  let labelTokens: number[] | null = null;
  const limit = int('limit', 0);
  const fraction = real('validation-fraction', 0.1);
  if (str('task')) {
    const task = bundledTask(str('task')!);
    // Single-token answers train as a classifier over those tokens (see labelWordTarget).
    const choiceIds = task.train[0].choices.map((c) => tokenizer.encode(c, { addSpecialTokens: false }));
    if (choiceIds.every((ids) => ids.length === 1)) labelTokens = choiceIds.map((ids) => ids[0]);
    // Bundled splits are ordered by source; --limit draws a seeded random subset.
    const items = limit ? shuffled(task.train, seed).slice(0, limit) : task.train;
    const split = validationSplit(items, fraction, seed);
    encoded = encodeChoiceItems(split.train, tokenizer, maxLength);
    validation = encodeChoiceItems(split.validation, tokenizer, maxLength).examples;
  } else {
    const mapping = { promptField: str('prompt-field'), completionField: str('completion-field'), textField: str('text-field'), messagesField: str('messages-field'), template: str('template') };
    const records = readRecords(str('data')!);
    const chosen = limit ? records.slice(0, limit) : records;
    if (str('validation-data')) {
      encoded = encodeRecords(chosen, tokenizer, mapping, maxLength);
      validation = encodeRecords(readRecords(str('validation-data')!), tokenizer, mapping, maxLength).examples;
    } else if (fraction > 0) {
      const split = validationSplit(chosen, fraction, seed);
      encoded = encodeRecords(split.train, tokenizer, mapping, maxLength);
      validation = encodeRecords(split.validation, tokenizer, mapping, maxLength).examples;
    } else encoded = encodeRecords(chosen, tokenizer, mapping, maxLength);
  }
  if (encoded.truncated) out.note(`note: ${encoded.truncated} of ${encoded.examples.length} training examples were longer than ${maxLength} tokens; their prompts were cut from the start.`);

  out.note(`method: ${method.name} (${method.config.peftType})`);
  const report = peft.trainableParameters();
  out.note(`training ${report.trainable.toLocaleString('en-US')} of ${report.total.toLocaleString('en-US')} parameters (${report.percent.toFixed(3)}%) on ${encoded.examples.length} examples`);

  const bar = new ProgressBar('train', (t) => out.progress(t));
  const save = (dir: string) => { saveAdapters(peft, dir, { baseModelNameOrPath: modelDir }); };
  const target = labelTokens ? labelWordTarget(model, labelTokens, save, peft.trainingHooks()) : causalLMTarget(model, save, peft.trainingHooks());
  const result = await train(target, { train: encoded.examples, validation }, {
    ...DEFAULT_TRAIN_CONFIG,
    epochs: real('epochs', 1), maxSteps: int('max-steps', 0) || undefined, batchSize: int('batch-size', 8), gradAccumulation: int('grad-accum', 1),
    lr: real('lr', 2e-4), schedule: (str('schedule') ?? 'linear') as never, warmupSteps: int('warmup-steps', 0), weightDecay: real('weight-decay', 0),
    maxGradNorm: real('max-grad-norm', 1) || null, optimizer: (str('optimizer') ?? 'adamw') as never, seed, groupByLength: v['no-group-by-length'] !== true,
    evalEvery: int('eval-every', 0), earlyStoppingPatience: int('patience', 0), checkpointEvery: int('checkpoint-every', 0),
    padId: tokenizer.padTokenId ?? tokenizer.eosTokenId ?? 0, outputDir: outDir, resumeFrom: str('resume'), learningRates: peft.learningRates('default'),
  }, {
    onStep: (e) => bar.update(e.step, e.totalSteps, { loss: e.loss.toFixed(4), lr: e.lr.toExponential(1), 'tok/s': e.tokensPerSecond.toFixed(0) }, e.elapsedSeconds),
    onEval: (e) => out.note(`\nstep ${e.step}: validation loss ${e.evalLoss.toFixed(4)}${e.best ? ' (best)' : ''}`),
    onCheckpoint: (dir) => out.note(`\ncheckpoint written: ${dir}`),
    shouldStop,
  });
  // The settings behind the adapter, for the evaluation report's header (HF Trainer keeps training_args.bin).
  if (!result.interrupted) writeTextAtomic(join(outDir, 'training_args.json'), `${JSON.stringify({ ...v, seed, peft_ts_version: packageVersion() }, null, 2)}\n`);
  const summary = {
    adapter: result.interrupted ? null : outDir, checkpoint: result.checkpoint, steps: result.steps, final_loss: result.finalLoss,
    best_validation_loss: result.bestEvalLoss, stopped_early: result.stoppedEarly, interrupted: result.interrupted,
    seconds: result.seconds, tokens_per_second: result.tokensPerSecond, trainable_parameters: report.trainable,
    examples: encoded.examples.length, truncated_examples: encoded.truncated,
  };
  if (v.json === true) out.json(summary);
  else if (result.interrupted) out.line(`interrupted at step ${result.steps}; resume with --resume ${result.checkpoint}`);
  else out.line(`adapter written to ${outDir} after ${result.steps} steps (final loss ${result.finalLoss.toFixed(4)}, ${result.tokensPerSecond.toFixed(0)} tokens/s)`);
}
