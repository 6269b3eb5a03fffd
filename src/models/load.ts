import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend } from '../backend/index.js';
import { CheckpointError, ConfigError } from '../errors.js';
import { readTextFile } from '../files.js';
import { loadCheckpointFolder, readHeader } from '../io/safetensors.js';
import { castFrozenWeights, type WeightDType } from '../nn/index.js';
import type { Tensor } from '../tensor/index.js';
import type { ArchSpec, ModelConfig, PretrainedModel } from './model.js';
import { architecture } from './registry.js';
import { DecoderForSequenceClassification } from './sequence-classification.js';

export function readConfig(dir: string): Record<string, unknown> {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new ConfigError(`[config] ${path} not found.`, { hint: 'Point at a Hugging Face model folder (config.json, model.safetensors, tokenizer.json).' });
  const text = readTextFile(path, (problem, cause) => new ConfigError(`[config] ${path} ${problem}.`, { hint: 'config.json must be a JSON file.', cause }));
  try {
    const raw = JSON.parse(text.replace(/^\uFEFF/, ''));
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('not an object');
    return raw;
  } catch (cause) {
    throw new ConfigError(`[config] ${path} is not a JSON object.`, { hint: 'Fix or re-download config.json.', cause });
  }
}

export function parseConfig(raw: Record<string, unknown>): ModelConfig {
  return architecture(raw.model_type).parseConfig(raw);
}

export interface LoadReport {
  unexpected: string[];
  initialised: string[];
}

/** Layer indices in checkpoint names: GPT-2's h.N, Llama's layers.N, BERT's layer.N. */
const LAYER_INDEX = /(?:^|\.)(?:h|layers|layer)\.(\d+)\./;

/**
 * Compares config.json with the checkpoint before the model is allocated: the layer count must
 * match, and the config may not describe more parameters than the checkpoint holds (a config
 * with n_layer 1e9 or vocab_size 2^31 stops here, not in an allocation).
 */
function checkConfigAgainstCheckpoint(spec: ArchSpec, config: ModelConfig, tensors: Map<string, Tensor>): void {
  const layers = new Set<number>();
  let stored = 0;
  for (const [key, t] of tensors) {
    const m = LAYER_INDEX.exec(key);
    if (m) layers.add(Number(m[1]));
    stored += t.size;
  }
  const highest = layers.size ? Math.max(...layers) + 1 : 0;
  if (layers.size !== config.numLayers || highest !== config.numLayers) {
    throw new ConfigError(`[load] config.json declares ${config.numLayers} layer(s) but the checkpoint holds ${layers.size}${highest !== layers.size ? ` (indices up to ${highest - 1})` : ''}.`, {
      hint: 'config.json and the weights must come from the same model: re-download or fix the layer count.',
    });
  }
  const needed = spec.parameterCount(config);
  if (needed > stored) {
    throw new ConfigError(`[load] config.json describes a ${config.modelType} model of ${needed} parameters but the checkpoint holds ${stored} values.`, {
      hint: 'A size in config.json (vocab, width, positions, layers) does not match the weights.',
    });
  }
}

/** 'auto' keeps the checkpoint's precision: bfloat16 matrix weights stay bfloat16, anything else loads as float32. */
export type LoadDType = WeightDType | 'auto';
export const LOAD_DTYPES: readonly LoadDType[] = ['auto', 'float32', 'bfloat16'];

export interface LoadOptions {
  /**
   * Storage of the frozen matrix weights (Linear, Conv1D, Embedding): 'bfloat16' halves their
   * memory and runs the bf16 GEMM (activations rounded to bfloat16 in those products, float32
   * sums); norms, biases and anything trained stay float32. Default 'auto'.
   */
  dtype?: LoadDType;
  /** The head to build; by default what config.json's architectures names (a causal LM unless it says ...ForSequenceClassification). */
  task?: PretrainedModel['task'];
  /** Sequence classification: the label count (default: the config's num_labels / id2label, else 2). */
  numLabels?: number;
}

/** The model object for `config`: its causal LM, or its sequence classifier when asked for or named in architectures. */
function createModel(config: ModelConfig, options: LoadOptions): PretrainedModel {
  const spec = architecture(config.modelType);
  const architectures = config.raw.architectures;
  if (architectures !== undefined && architectures !== null && !(Array.isArray(architectures) && architectures.every((a) => typeof a === 'string'))) {
    throw new ConfigError(`[config] architectures must be a list of class names, got ${JSON.stringify(architectures)}.`, { hint: 'Fix config.json, e.g. "architectures": ["LlamaForCausalLM"].' });
  }
  const declared = (architectures as string[] | undefined | null)?.[0] ?? '';
  const classifier = options.task === 'sequence-classification' || (!options.task && declared.endsWith('ForSequenceClassification'));
  if (options.numLabels !== undefined) {
    (config as ModelConfig & { numLabels?: number }).numLabels = options.numLabels;
    config.raw = { ...config.raw, num_labels: options.numLabels };
    if (config.raw.id2label && Object.keys(config.raw.id2label).length !== options.numLabels) {
      delete config.raw.id2label;
      delete config.raw.label2id;
    }
  }
  // Saved again (merge), the folder should say what it now holds, as transformers writes it.
  if (classifier && spec.createSequenceClassifier && !declared.endsWith('ForSequenceClassification')) {
    const family = declared.replace(/For\w+$/, '').replace(/LMHead\w*$/, '') || config.modelType;
    config.raw = { ...config.raw, architectures: [`${family}ForSequenceClassification`] };
  }
  const model = classifier && spec.createSequenceClassifier ? spec.createSequenceClassifier(config, options.numLabels) : spec.create(config);
  if (options.task && model.task !== options.task) {
    throw new ConfigError(`[load] a ${config.modelType} model loads as ${model.task} here, not ${options.task}.`, { hint: `Load it as a ${model.task} model.` });
  }
  return model;
}

/** Builds the model for `config` and fills it from `tensors` (checkpoint names), checking every name and shape. */
export function buildModel(config: ModelConfig, tensors: Map<string, Tensor>, options: LoadOptions = {}): { model: PretrainedModel; report: LoadReport } {
  const spec = architecture(config.modelType);
  const keys = [...tensors.keys()];
  const mapped = new Map<string, Tensor>();
  for (const [key, t] of tensors) {
    const name = spec.mapKey ? spec.mapKey(key, keys) : key;
    if (name !== null) mapped.set(name, t);
  }
  checkConfigAgainstCheckpoint(spec, config, mapped);
  const model = createModel(config, options);
  const { missing, unexpected } = model.loadStateDict(mapped);
  // A decoder's classification head is new when the checkpoint is a plain LM: it keeps its random init.
  const optional = new Set([...(spec.optionalKeys?.(config) ?? []), ...(model instanceof DecoderForSequenceClassification ? ['score.weight'] : [])]);
  const required = missing.filter((k) => !optional.has(k));
  if (required.length) {
    throw new CheckpointError(
      `[load] the checkpoint lacks ${required.length} parameter(s) of this ${config.modelType} model: ${required.slice(0, 8).join(', ')}${required.length > 8 ? ', ...' : ''}.`,
      {
        hint: 'The weights do not match config.json (a different architecture or size?).',
      },
    );
  }
  return { model: model.eval(), report: { unexpected, initialised: missing } };
}

/** The load report as one line for the user, or null when every key matched. */
export function describeLoadReport(report: LoadReport): string | null {
  const list = (keys: string[]) => `${keys.slice(0, 5).join(', ')}${keys.length > 5 ? `, ... (${keys.length})` : ''}`;
  const parts = [
    report.unexpected.length ? `ignored ${report.unexpected.length} checkpoint tensor(s) the model does not use: ${list(report.unexpected)}` : '',
    report.initialised.length ? `initialised ${report.initialised.length} parameter(s) the checkpoint lacks: ${list(report.initialised)}` : '',
  ].filter(Boolean);
  return parts.length ? `[load] ${parts.join('; ')}.` : null;
}

/** generation_config.json of a model folder, or undefined when it has none. */
export function readGenerationConfig(dir: string): Record<string, unknown> | undefined {
  const path = join(dir, 'generation_config.json');
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, ''));
  } catch (cause) {
    throw new ConfigError(`[config] ${path} is not valid JSON.`, { hint: 'Fix or re-download generation_config.json.', cause });
  }
}

/** True when the checkpoint stores its 2-D float tensors as BF16 (the first file of a sharded one decides). */
function storedAsBf16(dir: string): boolean {
  const index = join(dir, 'model.safetensors.index.json');
  let file = join(dir, 'model.safetensors');
  if (existsSync(index)) {
    const first = Object.values((JSON.parse(readFileSync(index, 'utf8')).weight_map ?? {}) as Record<string, string>)[0];
    if (typeof first !== 'string') return false;
    file = join(dir, first);
  }
  if (!existsSync(file)) return false;
  const matrices = [...readHeader(file).tensors.values()].filter((t) => t.shape.length === 2 && /^(F|BF)\d+$/.test(t.dtype));
  return matrices.length > 0 && matrices.every((t) => t.dtype === 'BF16');
}

/** Loads a Hugging Face model folder: config.json + model.safetensors (or shards), and generation_config.json when present. */
export function loadPretrained(dir: string, options: LoadOptions = {}): { model: PretrainedModel; report: LoadReport } {
  const dtype = options.dtype ?? 'auto';
  if (!LOAD_DTYPES.includes(dtype)) throw new ConfigError(`[load] dtype '${dtype as string}' is not supported.`, { hint: `Use one of: ${LOAD_DTYPES.join(', ')}.` });
  const config = parseConfig(readConfig(dir));
  config.generation = readGenerationConfig(dir);
  // The native backend tunes malloc when it loads (freed activations stay in the heap for reuse).
  // Loaded after the weights, the heap they leave behind keeps every large activation a fresh
  // mmap with page faults on each op: a GPT-2 forward ran at half speed. So: first the backend.
  getBackend();
  const loaded = buildModel(config, loadCheckpointFolder(dir), options);
  const weights = dtype === 'auto' ? (storedAsBf16(dir) ? 'bfloat16' : 'float32') : dtype;
  if (weights === 'bfloat16') castFrozenWeights(loaded.model, 'bfloat16');
  return loaded;
}
