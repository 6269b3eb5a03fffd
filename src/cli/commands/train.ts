import { ArgumentError, ConfigError } from '../../errors.js';
import { bundledTask, bundledTaskNames, readRecords, shuffled, validationSplit } from '../../data/index.js';
import { join } from 'node:path';
import { HFTokenizer, resolveModelDir, writeTextAtomic } from '../../io/index.js';
import { packageVersion } from '../../package.js';
import { describeLoadReport, loadPretrained, readConfig, virtualTokensOf } from '../../models/index.js';
import { parsePeftConfig, PeftModel, type PeftConfigInput } from '../../peft/index.js';
import { encodeChoiceItems, train, type TrainData } from '../../train/index.js';
import { defineCommand, UsageError, type FlagValues } from '../command.js';
import { DTYPE_FLAG, JSON_FLAG, loadDType, MODEL_FLAGS } from '../flags.js';
import { checkOutputFolder } from '../output-folder.js';
import { methodFlagSpecs, peftConfigFromFlags } from '../method-flags.js';
import type { Output } from '../output.js';
import { ProgressBar } from '../progress.js';

/** The CLI's LoRA defaults (PEFT's are alpha 8, no dropout): what fine-tuning recipes use. */
const CLI_LORA_DEFAULTS = { lora_alpha: 16, lora_dropout: 0.05 };

const flags = {
  ...MODEL_FLAGS,
  config: {
    type: 'string',
    metavar: 'FILE',
    help: 'JSON or YAML settings: any flag below (also in snake_case), Hugging Face TrainingArguments names, and a peft: block of adapter_config.json fields; flags on the command line win',
  },
  data: { type: 'string', metavar: 'FILE', help: 'training data: .jsonl, .json or .csv records' },
  task: { type: 'string', metavar: 'NAME', choices: bundledTaskNames(), help: 'a bundled task instead of --data' },
  out: { type: 'string', required: true, metavar: 'DIR', aliases: ['output_dir'], help: 'where the adapter, checkpoints and metrics.jsonl go' },
  overwrite: { type: 'boolean', default: false, aliases: ['overwrite_output_dir'], help: 'train into --out even when it already holds files' },
  ...DTYPE_FLAG,
  // The adapter
  method: { type: 'string', default: 'lora', help: "PEFT method (peft-ts methods lists them); its fields are the flags marked [method] below, or a config file's peft: block" },
  'peft-config': { type: 'string', metavar: 'FILE', help: 'adapter_config.json-style JSON with the method and its fields (instead of a peft: block)' },
  'adapter-name': { type: 'string', default: 'default', help: "adapter name; not 'default' saves it in a subfolder of --out, as PEFT does" },
  'task-type': {
    type: 'string',
    choices: ['CAUSAL_LM', 'SEQ_CLS'],
    help: 'CAUSAL_LM trains completions; SEQ_CLS trains a classification head (+ adapter) on labels (default: SEQ_CLS for classifier checkpoints, else CAUSAL_LM)',
  },
  'num-labels': { type: 'int', min: 2, help: "SEQ_CLS: the head's label count (default: the model config's, else the data's)" },
  ...methodFlagSpecs(CLI_LORA_DEFAULTS),
  // The data
  'prompt-field': { type: 'string', default: 'prompt', help: 'record field holding the prompt' },
  'completion-field': { type: 'string', default: 'completion', help: 'record field holding the completion (the loss is on it)' },
  'text-field': { type: 'string', help: 'plain text records (loss on all of it); SEQ_CLS: the text to classify (default text)' },
  'label-field': { type: 'string', default: 'label', help: 'SEQ_CLS: the record field holding the label (index or name)' },
  'messages-field': { type: 'string', help: 'chat records: a list of {role, content}; the last message is learned' },
  template: { type: 'string', help: "prompt template over record fields, e.g. 'Q: {question}\\nA:'" },
  'max-length': { type: 'int', min: 2, help: "tokens per example (default: 512 or the model's context)" },
  limit: { type: 'int', min: 0, default: 0, help: 'use the first N records (a seeded sample of a bundled task); 0 for all' },
  'validation-data': { type: 'string', metavar: 'FILE', help: 'validation records (instead of a split of --data)' },
  'validation-fraction': { type: 'number', min: 0, below: 1, default: 0.1, help: 'fraction of --data held out for validation loss' },
  // The optimisation
  epochs: { type: 'number', min: 0, default: 1, aliases: ['num_train_epochs'], help: 'passes over the data (fractions allowed)' },
  'max-steps': { type: 'int', min: 0, default: 0, aliases: ['max_steps'], help: 'train exactly this many optimiser steps, overriding --epochs (as in transformers); 0 uses --epochs' },
  'batch-size': { type: 'int', min: 1, default: 8, aliases: ['per_device_train_batch_size'], help: 'examples per micro-batch' },
  'grad-accum': { type: 'int', min: 1, default: 1, aliases: ['gradient_accumulation_steps'], help: 'micro-batches per optimiser step' },
  lr: { type: 'number', min: 0, default: 2e-4, aliases: ['learning_rate'], help: 'peak learning rate' },
  schedule: { type: 'string', choices: ['linear', 'cosine', 'constant', 'constant_with_warmup'], default: 'linear', aliases: ['lr_scheduler_type'], help: 'learning-rate schedule after warmup' },
  'warmup-steps': { type: 'int', min: 0, default: 0, aliases: ['warmup_steps'], help: 'linear warmup steps (wins over --warmup-ratio)' },
  'warmup-ratio': { type: 'number', min: 0, below: 1, default: 0, aliases: ['warmup_ratio'], help: 'warmup as a fraction of all steps' },
  'weight-decay': { type: 'number', min: 0, default: 0, aliases: ['weight_decay'], help: 'decoupled weight decay' },
  'max-grad-norm': { type: 'number', min: 0, default: 1, aliases: ['max_grad_norm'], help: 'gradient clipping norm; 0 disables' },
  optimizer: { type: 'string', choices: ['adamw', 'adamw_torch', 'sgd'], default: 'adamw', aliases: ['optim'], help: "optimiser (adamw_torch is transformers' name for adamw)" },
  seed: { type: 'int', default: 0, help: 'seed for initialisation, shuffling, dropout and the split' },
  'group-by-length': { type: 'boolean', default: true, aliases: ['group_by_length'], help: 'batch examples of similar length (less padding)' },
  'logging-steps': { type: 'int', min: 1, default: 1, aliases: ['logging_steps'], help: 'write a metrics.jsonl entry (mean loss) every N steps' },
  'eval-every': { type: 'int', min: 0, default: 0, aliases: ['eval_steps'], help: 'validation loss every N steps; 0 at the end only' },
  patience: { type: 'int', min: 0, default: 0, aliases: ['early_stopping_patience'], help: 'stop after N evaluations without improvement; 0 never' },
  'checkpoint-every': { type: 'int', min: 0, default: 0, aliases: ['save_steps'], help: 'write a resumable checkpoint every N steps; 0 never' },
  resume: { type: 'string', metavar: 'DIR', aliases: ['resume_from_checkpoint'], help: 'continue from a checkpoint folder' },
  ...JSON_FLAG,
} as const;

type Values = FlagValues<typeof flags>;

/**
 * The adapter config: the config file's peft: block (or --peft-config), then the method's fields
 * given as flags or top-level settings; checked by the method's declaration before anything loads.
 */
function peftConfig(v: Values, given: ReadonlySet<string>, block: unknown): Record<string, unknown> {
  const set = Object.fromEntries(Object.entries(v).filter(([flag]) => given.has(flag)));
  const { config } = peftConfigFromFlags(set, CLI_LORA_DEFAULTS, block);
  if (v['task-type']) config.task_type = v['task-type'];
  parsePeftConfig(config);
  return config;
}

function progressHooks(out: Output, shouldStop: () => boolean) {
  const bar = new ProgressBar('train', (t) => out.progress(t));
  return {
    onStep: (e: { step: number; totalSteps: number; loss: number; lr: number; tokensPerSecond: number; elapsedSeconds: number }) =>
      bar.update(e.step, e.totalSteps, { loss: e.loss.toFixed(4), lr: e.lr.toExponential(1), 'tok/s': e.tokensPerSecond.toFixed(0) }, e.elapsedSeconds),
    onEval: (e: { step: number; evalLoss: number; best: boolean }) => out.note(`\nstep ${e.step}: validation loss ${e.evalLoss.toFixed(4)}${e.best ? ' (best)' : ''}`),
    onCheckpoint: (dir: string) => out.note(`\ncheckpoint written: ${dir}`),
    shouldStop,
  };
}

/** Hugging Face TrainingArguments that peft-ts does not take, with what to write instead. */
const TRAINING_ARGUMENTS_ELSEWHERE: Record<string, string> = {
  fp16: 'CPU training is float32; dtype: bf16 keeps frozen weights in bfloat16',
  bf16: 'write dtype: bf16 (frozen weights in bfloat16, float32 sums and trainable weights)',
  report_to: 'peft-ts writes metrics.jsonl in the output folder; remove it',
  logging_dir: 'metrics.jsonl goes in the output folder; remove it',
  run_name: 'name runs by their output folder; remove it',
  evaluation_strategy: "write eval_steps: N (0 evaluates at the end only); 'epoch' strategies are not offered",
  eval_strategy: "write eval_steps: N (0 evaluates at the end only); 'epoch' strategies are not offered",
  save_strategy: 'write save_steps: N (0 keeps the final adapter only)',
  logging_strategy: 'write logging_steps: N',
  per_device_eval_batch_size: 'validation uses batch_size',
  save_total_limit: 'every checkpoint is kept; remove it',
  load_best_model_at_end: 'early_stopping_patience stops at the best validation loss; remove it',
  push_to_hub: 'no uploads; copy the output folder',
  hub_model_id: 'no uploads; copy the output folder',
  gradient_checkpointing: 'not offered; lower batch_size or max_length to save memory',
  dataloader_num_workers: 'data loads in the training process; remove it',
  do_train: 'peft-ts train always trains; remove it',
  do_eval: 'validation runs when validation_fraction > 0; remove it',
};

export const trainCommand = defineCommand({
  name: 'train',
  summary: 'fine-tune an adapter (LoRA and family) on a data file or a bundled task; causal LM or sequence classification',
  flags,
  config: { blocks: ['peft'], elsewhere: TRAINING_ARGUMENTS_ELSEWHERE },
  examples: [
    'peft-ts train --model Qwen/Qwen2.5-0.5B --data train.jsonl --out adapter --r 16 --target-modules q_proj,v_proj',
    'peft-ts train --config train.yaml   # learning_rate: 2e-4, num_train_epochs: 2, peft: { r: 8, target_modules: [c_attn, c_proj] }',
    'peft-ts train --model bert-dir --task-type SEQ_CLS --data reviews.csv --text-field review --label-field sentiment --out cls',
  ],
  async run(v, { out, given, blocks, shouldStop }) {
    if (!v.data === !v.task) throw new UsageError('[train] pass exactly one of --data FILE or --task NAME.', "Run 'peft-ts train --help' for every flag.");
    if (!(v.epochs > 0) && !v['max-steps']) throw new UsageError('[train] --epochs 0 trains nothing.', 'Set --epochs to a positive number (fractions allowed) or --max-steps N.');
    checkOutputFolder(v.out, '--out', v.overwrite || v.resume !== undefined);
    const peft = usage(() => peftConfig(v, given, blocks.peft));
    const modelDir = await resolveModelDir(v.model, { revision: v.revision });
    if (peft.task_type === 'SEQ_CLS' && v.task)
      throw new ArgumentError('[train] bundled tasks train causal LMs (label words); SEQ_CLS needs --data with text and label fields.', 'Drop --task-type SEQ_CLS or pass --data.');
    // SEQ_CLS on a causal-LM checkpoint builds its ...ForSequenceClassification with a new score head sized to the data, as AutoModelForSequenceClassification does.
    const raw = readConfig(modelDir);
    const numLabels = v['num-labels'] ?? (peft.task_type === 'SEQ_CLS' && raw.num_labels === undefined && raw.id2label === undefined ? countLabels(v) : undefined);
    const task = peft.task_type === 'SEQ_CLS' ? 'sequence-classification' : peft.task_type === 'CAUSAL_LM' ? 'causal-lm' : undefined;
    const loaded = loadPretrained(modelDir, { task, numLabels, dtype: loadDType(v.dtype) });
    const notice = describeLoadReport(loaded.report);
    if (notice) out.note(notice);
    const model = loaded.model;
    const classify = model.task === 'sequence-classification';
    if (classify && v.task) throw new ArgumentError(`[train] ${v.model} is a sequence classifier; bundled tasks train causal LMs.`, 'Pass --data with text and label fields.');
    const tokenizer = HFTokenizer.fromDir(modelDir);
    // The adapter comes first: a prompt-based method's virtual tokens take positions in front of every example.
    const peftModel = new PeftModel(model, { seed: v.seed, tokenizer });
    peftModel.addAdapter(v['adapter-name'], { ...peft, task_type: peft.task_type ?? (classify ? 'SEQ_CLS' : 'CAUSAL_LM'), base_model_name_or_path: v.model } as PeftConfigInput);
    const context = model.config.maxPositions - virtualTokensOf(model);
    const maxLength = v['max-length'] ?? Math.min(512, context);
    if (maxLength > context)
      throw new ArgumentError(
        `[train] --max-length ${maxLength} exceeds the ${context} positions the model's ${model.config.maxPositions} leave${context < model.config.maxPositions ? ' after the virtual tokens' : ''}.`,
        `Use at most ${context}.`,
      );

    let data: TrainData, validation: TrainData | number | undefined, labelTokens: number[] | undefined;
    if (v.task) {
      const task = bundledTask(v.task);
      // Single-token answers train as a classifier over those tokens (see labelWordTarget).
      const choiceIds = task.train[0].choices.map((c) => tokenizer.encode(c, { addSpecialTokens: false }));
      if (choiceIds.every((ids) => ids.length === 1)) labelTokens = choiceIds.map((ids) => ids[0]);
      // Bundled splits are ordered by source; --limit draws a seeded random subset.
      const items = v.limit ? shuffled(task.train, v.seed).slice(0, v.limit) : task.train;
      const split = validationSplit(items, v['validation-fraction'], v.seed);
      const encoded = encodeChoiceItems(split.train, tokenizer, maxLength);
      data = { examples: encoded.examples, truncated: encoded.truncated, validation: encodeChoiceItems(split.validation, tokenizer, maxLength).examples };
    } else {
      data = v.data!;
      validation = v['validation-data'] ?? v['validation-fraction'];
    }
    const fields = classify
      ? { textField: v['text-field'] ?? 'text', labelField: v['label-field'] }
      : { promptField: v['prompt-field'], completionField: v['completion-field'], textField: v['text-field'], messagesField: v['messages-field'], template: v.template };
    out.note(`method: ${String(peft.peft_type)}`);
    const trainable = peftModel.trainableParameters();
    out.note(`training ${trainable.trainable.toLocaleString('en-US')} of ${trainable.total.toLocaleString('en-US')} parameters (${trainable.percent.toFixed(3)}%)`);
    const result = await train({
      model: peftModel,
      tokenizer,
      data,
      validation,
      adapterName: v['adapter-name'],
      fields,
      labelTokens,
      maxLength,
      limit: v.task ? 0 : v.limit,
      epochs: v.epochs,
      maxSteps: v['max-steps'],
      batchSize: v['batch-size'],
      gradAccumulation: v['grad-accum'],
      lr: v.lr,
      schedule: v.schedule === 'constant_with_warmup' ? 'constant' : (v.schedule as 'linear' | 'cosine' | 'constant'),
      warmupSteps: v['warmup-steps'],
      warmupRatio: v['warmup-ratio'],
      weightDecay: v['weight-decay'],
      maxGradNorm: v['max-grad-norm'] || null,
      optimizer: v.optimizer === 'sgd' ? 'sgd' : 'adamw',
      seed: v.seed,
      groupByLength: v['group-by-length'],
      loggingSteps: v['logging-steps'],
      evalEvery: v['eval-every'],
      earlyStoppingPatience: v.patience,
      checkpointEvery: v['checkpoint-every'],
      outputDir: v.out,
      resumeFrom: v.resume,
      warn: (m) => out.note(`note: ${m}`),
      callbacks: progressHooks(out, shouldStop),
    });
    const metrics = result.metrics;
    // The settings behind the adapter, for the evaluation report's header (HF Trainer keeps training_args.bin).
    if (!metrics.interrupted) writeTextAtomic(join(v.out, 'training_args.json'), `${JSON.stringify({ ...v, peft, peft_ts_version: packageVersion() }, null, 2)}\n`);
    const report = peftModel.trainableParameters();
    const summary = {
      adapter: metrics.interrupted ? null : v['adapter-name'] === 'default' ? v.out : `${v.out}/${v['adapter-name']}`,
      checkpoint: metrics.checkpoint,
      steps: metrics.steps,
      final_loss: metrics.finalLoss,
      best_validation_loss: metrics.bestEvalLoss,
      stopped_early: metrics.stoppedEarly,
      interrupted: metrics.interrupted,
      seconds: metrics.seconds,
      tokens_per_second: metrics.tokensPerSecond,
      trainable_parameters: report.trainable,
      examples: result.examples,
      truncated_examples: result.truncatedExamples,
      ...(result.labels ? { labels: result.labels } : {}),
    };
    if (v.json) out.json(summary);
    else if (metrics.interrupted) out.line(`interrupted at step ${metrics.steps}; resume with --resume ${metrics.checkpoint}`);
    else out.line(`adapter written to ${summary.adapter} after ${metrics.steps} steps (final loss ${metrics.finalLoss.toFixed(4)}, ${metrics.tokensPerSecond.toFixed(0)} tokens/s)`);
  },
});

/** SEQ_CLS on a plain LM checkpoint: the head gets as many labels as the data has. */
function countLabels(v: Values): number {
  const values = new Set(readRecords(v.data!).map((r) => String(r.fields[v['label-field']])));
  return Math.max(2, values.size);
}

/** A config the user wrote that does not hold is a usage error (exit 2), like a bad flag. */
function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}
