import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, ConfigError } from '../errors.js';
import { loadCheckpointFolder } from '../io/safetensors.js';
import type { Tensor } from '../tensor/index.js';
import type { ModelConfig, PretrainedModel } from './model.js';
import { architecture } from './registry.js';
import { DecoderForSequenceClassification } from './sequence-classification.js';

export function readConfig(dir: string): Record<string, unknown> {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new ConfigError(`[config] ${path} not found.`, { hint: 'Point at a Hugging Face model folder (config.json, model.safetensors, tokenizer.json).' });
  try {
    const raw = JSON.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, ''));
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('not an object');
    return raw;
  } catch (cause) {
    throw new ConfigError(`[config] ${path} is not a JSON object.`, { hint: 'Fix or re-download config.json.', cause });
  }
}

export function parseConfig(raw: Record<string, unknown>): ModelConfig {
  return architecture(raw.model_type).parseConfig(raw);
}

export interface LoadReport { unexpected: string[]; initialised: string[] }

export interface LoadOptions {
  /** The head to build; by default what config.json's architectures names (a causal LM unless it says ...ForSequenceClassification). */
  task?: PretrainedModel['task'];
  /** Sequence classification: the label count (default: the config's num_labels / id2label, else 2). */
  numLabels?: number;
}

/** The model object for `config`: its causal LM, or its sequence classifier when asked for or named in architectures. */
function createModel(config: ModelConfig, options: LoadOptions): PretrainedModel {
  const spec = architecture(config.modelType);
  const declared = (config.raw.architectures as string[] | undefined)?.[0] ?? '';
  const classifier = options.task === 'sequence-classification' || (!options.task && declared.endsWith('ForSequenceClassification'));
  if (options.numLabels !== undefined) {
    (config as ModelConfig & { numLabels?: number }).numLabels = options.numLabels;
    config.raw = { ...config.raw, num_labels: options.numLabels };
    if (config.raw.id2label && Object.keys(config.raw.id2label).length !== options.numLabels) { delete config.raw.id2label; delete config.raw.label2id; }
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
  const model = createModel(config, options);
  const keys = [...tensors.keys()];
  const mapped = new Map<string, Tensor>();
  for (const [key, t] of tensors) {
    const name = spec.mapKey ? spec.mapKey(key, keys) : key;
    if (name !== null) mapped.set(name, t);
  }
  const { missing, unexpected } = model.loadStateDict(mapped);
  // A decoder's classification head is new when the checkpoint is a plain LM: it keeps its random init.
  const optional = new Set([...(spec.optionalKeys?.(config) ?? []), ...(model instanceof DecoderForSequenceClassification ? ['score.weight'] : [])]);
  const required = missing.filter((k) => !optional.has(k));
  if (required.length) {
    throw new CheckpointError(`[load] the checkpoint lacks ${required.length} parameter(s) of this ${config.modelType} model: ${required.slice(0, 8).join(', ')}${required.length > 8 ? ', ...' : ''}.`, {
      hint: 'The weights do not match config.json (a different architecture or size?).',
    });
  }
  return { model: model.eval(), report: { unexpected, initialised: missing } };
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

/** Loads a Hugging Face model folder: config.json + model.safetensors (or shards), and generation_config.json when present. */
export function loadPretrained(dir: string, options: LoadOptions = {}): { model: PretrainedModel; report: LoadReport } {
  const config = parseConfig(readConfig(dir));
  config.generation = readGenerationConfig(dir);
  return buildModel(config, loadCheckpointFolder(dir), options);
}
