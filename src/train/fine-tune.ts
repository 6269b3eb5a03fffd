import { ArgumentError, didYouMean } from '../errors.js';
import { readRecords, validationSplit, type SourcedRecord } from '../data/index.js';
import type { HFTokenizer } from '../io/index.js';
import type { PretrainedModel } from '../models/index.js';
import { PeftModel, type PeftConfigInput } from '../peft/index.js';
import { manualSeed } from '../tensor/index.js';
import type { LMExample } from './batching.js';
import { classificationLabels, encodeClassificationRecords, encodeRecords, type Encoded, type FieldMapping } from './data.js';
import { causalLMTarget, labelWordTarget, sequenceClassificationTarget } from './targets.js';
import { DEFAULT_TRAIN_CONFIG, trainLoop, type TrainConfig, type TrainHooks, type TrainResult } from './trainer.js';

/** Training data: a data file (JSONL/JSON/CSV), records, or examples already tokenized. */
export type TrainData = string | readonly Record<string, unknown>[] | { examples: LMExample[]; validation?: LMExample[]; truncated?: number };

export interface TrainOptions extends Partial<Omit<TrainConfig, 'padId'>> {
  /** The base model: a causal LM (trained on completions) or a sequence classifier (trained on labels). Or a PeftModel to go on training. */
  model: PretrainedModel | PeftModel;
  tokenizer: HFTokenizer;
  data: TrainData;
  /** Validation data, or the fraction of `data` held out (default 0: none). */
  validation?: TrainData | number;
  /** The adapter's config (adapter_config.json fields); default LoRA with PEFT's defaults. */
  peft?: PeftConfigInput;
  adapterName?: string;
  /** Which record fields hold prompt/completion/text/messages (causal LM) or text/label (classification). */
  fields?: FieldMapping & { labelField?: string };
  /** Classification: the label names, in index order (default: the model's id2label, else the data's values sorted). */
  labels?: string[];
  /** Label-word objective: train a causal LM as a classifier over these single tokens (the completion is one of them). */
  labelTokens?: number[];
  /** Use the first N records of `data` (0 or unset: all). */
  limit?: number;
  /** Tokens per example (default: 512 or the model's context, whichever is smaller). */
  maxLength?: number;
  /** Logging: called after each step, evaluation and checkpoint; shouldStop ends the run with a checkpoint. */
  callbacks?: TrainHooks;
  /** Called with notices (truncation, config warnings). */
  warn?: (message: string) => void;
}

export interface TrainOutput {
  /** The model with its trained adapter (save with savePretrained). */
  model: PeftModel;
  adapterName: string;
  metrics: TrainResult;
  examples: number;
  truncatedExamples: number;
  /** Classification: the label names by index. */
  labels?: string[];
}

/** Every option train() reads, so a misspelt one from plain JavaScript or JSON is an error rather than a default. */
const TRAIN_OPTIONS = new Set([
  ...Object.keys(DEFAULT_TRAIN_CONFIG),
  'maxSteps',
  'warmupRatio',
  'loggingSteps',
  'outputDir',
  'resumeFrom',
  'model',
  'tokenizer',
  'data',
  'validation',
  'peft',
  'adapterName',
  'fields',
  'labels',
  'labelTokens',
  'limit',
  'maxLength',
  'callbacks',
  'warn',
]);

function records(data: string | readonly Record<string, unknown>[], limit = 0): SourcedRecord[] {
  const all = typeof data === 'string' ? readRecords(data) : data.map((fields, i) => ({ fields, file: 'records', line: i + 1 }));
  return limit ? all.slice(0, limit) : all;
}

/**
 * Fine-tunes an adapter, as transformers' Trainer with a PEFT model: wraps the model with the
 * adapter (LoRA by default), tokenizes the data for the model's task (completions for a causal
 * LM, labels for a classifier, whose head is trained and saved through modules_to_save), runs
 * the training loop, and returns the adapted model with the run's metrics.
 */
export async function train(options: TrainOptions): Promise<TrainOutput> {
  for (const key of Object.keys(options)) {
    if (!TRAIN_OPTIONS.has(key))
      throw new ArgumentError(
        `[train] unknown option '${key}'.${didYouMean(key, TRAIN_OPTIONS) ? ` Did you mean '${didYouMean(key, TRAIN_OPTIONS)}'?` : ''}`,
        `Options: ${[...TRAIN_OPTIONS].sort().join(', ')}.`,
      );
  }
  const seed = options.seed ?? DEFAULT_TRAIN_CONFIG.seed;
  manualSeed(seed);
  const adapterName = options.adapterName ?? 'default';
  const peft = options.model instanceof PeftModel ? options.model : new PeftModel(options.model, { seed, tokenizer: options.tokenizer });
  peft.tokenizer ??= options.tokenizer;
  const model = peft.model;
  const classifier = model.task === 'sequence-classification';
  const tokenizer = options.tokenizer;
  const maxLength = options.maxLength ?? Math.min(512, model.config.maxPositions);
  if (maxLength > model.config.maxPositions)
    throw new ArgumentError(`[train] maxLength ${maxLength} exceeds the model's ${model.config.maxPositions} positions.`, `Use at most ${model.config.maxPositions}.`);
  const padId = tokenizer.padTokenId ?? tokenizer.eosTokenId ?? 0;
  // Decoder classifiers find each row's last token by the pad id, so it must be the one batches are padded with (transformers users set it the same way).
  if (classifier && model.config.padTokenId === undefined) {
    model.config.padTokenId = padId;
    model.config.raw = { ...model.config.raw, pad_token_id: padId };
  }

  let labels: string[] | undefined;
  const encodeRows = (rows: SourcedRecord[], all: SourcedRecord[]): Encoded => {
    if (!classifier) return encodeRecords(rows, tokenizer, options.fields ?? {}, maxLength);
    labels ??= options.labels ?? classificationLabels(all, options.fields?.labelField, model.config.raw.id2label as Record<string, string> | undefined, model.config.numLabels);
    if (labels.length !== model.config.numLabels)
      throw new ArgumentError(
        `[train] the data has ${labels.length} labels (${labels.join(', ')}) but the model's head has ${model.config.numLabels}.`,
        "Load the classifier with numLabels set to the data's label count (--num-labels).",
      );
    return encodeClassificationRecords(rows, tokenizer, options.fields ?? {}, labels, maxLength);
  };
  const encode = (data: TrainData): Encoded & { validation?: LMExample[] } => {
    if (typeof data === 'string' || Array.isArray(data)) {
      const rows = records(data as string | Record<string, unknown>[], data === options.data ? options.limit : 0);
      return encodeRows(rows, rows);
    }
    const given = data as { examples: LMExample[]; validation?: LMExample[]; truncated?: number };
    return { examples: given.examples, validation: given.validation, truncated: given.truncated ?? 0 };
  };

  let trainSet: Encoded, validation: LMExample[] | undefined;
  if (typeof options.validation === 'number' && options.validation > 0 && (typeof options.data === 'string' || Array.isArray(options.data))) {
    const all = records(options.data as string | Record<string, unknown>[], options.limit);
    const split = validationSplit(all, options.validation, seed);
    trainSet = encodeRows(split.train, all);
    validation = encodeRows(split.validation, all).examples;
  } else {
    const encoded = encode(options.data);
    trainSet = encoded;
    validation = options.validation !== undefined && typeof options.validation !== 'number' ? encode(options.validation).examples : encoded.validation;
  }
  if (trainSet.truncated) options.warn?.(`${trainSet.truncated} of ${trainSet.examples.length} training examples were longer than ${maxLength} tokens and were cut.`);

  if (!peft.adapters.has(adapterName)) {
    peft.addAdapter(adapterName, { task_type: classifier ? 'SEQ_CLS' : 'CAUSAL_LM', ...(options.peft ?? {}) } as PeftConfigInput);
  }
  peft.setAdapter(adapterName);
  const save = (dir: string) => {
    peft.savePretrained(dir, { adapters: [adapterName] });
  };
  const hooks = peft.trainingHooks();
  const target = classifier ? sequenceClassificationTarget(model, save, hooks) : options.labelTokens ? labelWordTarget(model, options.labelTokens, save, hooks) : causalLMTarget(model, save, hooks);
  const {
    model: _model,
    tokenizer: _tokenizer,
    data: _data,
    validation: _validation,
    peft: _peft,
    adapterName: _name,
    fields: _fields,
    labels: _labels,
    labelTokens: _labelTokens,
    limit: _limit,
    maxLength: _maxLength,
    callbacks,
    warn: _warn,
    ...config
  } = options;
  const metrics = await trainLoop(
    target,
    { train: trainSet.examples, validation },
    { ...DEFAULT_TRAIN_CONFIG, ...config, seed, padId, learningRates: config.learningRates ?? peft.learningRates(adapterName) },
    callbacks,
  );
  return { model: peft, adapterName, metrics, examples: trainSet.examples.length, truncatedExamples: trainSet.truncated, labels };
}
