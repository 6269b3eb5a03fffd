import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, ConfigError } from '../errors.js';
import { loadCheckpointFolder } from '../io/safetensors.js';
import type { Tensor } from '../tensor/index.js';
import type { ModelConfig, PretrainedModel } from './model.js';
import { architecture } from './registry.js';

export function readConfig(dir: string): Record<string, unknown> {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new ConfigError(`[config] ${path} not found.`, { hint: 'Point at a Hugging Face model folder (config.json, model.safetensors, tokenizer.json).' });
  try {
    const raw = JSON.parse(readFileSync(path, 'utf8'));
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

/** Builds the model for `config` and fills it from `tensors` (checkpoint names), checking every name and shape. */
export function buildModel(config: ModelConfig, tensors: Map<string, Tensor>): { model: PretrainedModel; report: LoadReport } {
  const spec = architecture(config.modelType);
  const model = spec.create(config);
  const keys = [...tensors.keys()];
  const mapped = new Map<string, Tensor>();
  for (const [key, t] of tensors) {
    const name = spec.mapKey ? spec.mapKey(key, keys) : key;
    if (name !== null) mapped.set(name, t);
  }
  const { missing, unexpected } = model.loadStateDict(mapped);
  const optional = new Set(spec.optionalKeys?.(config) ?? []);
  const required = missing.filter((k) => !optional.has(k));
  if (required.length) {
    throw new CheckpointError(`[load] the checkpoint lacks ${required.length} parameter(s) of this ${config.modelType} model: ${required.slice(0, 8).join(', ')}${required.length > 8 ? ', ...' : ''}.`, {
      hint: 'The weights do not match config.json (a different architecture or size?).',
    });
  }
  return { model: model.eval(), report: { unexpected, initialised: missing } };
}

/** Loads a Hugging Face model folder: config.json + model.safetensors (or shards). */
export function loadPretrained(dir: string): { model: PretrainedModel; report: LoadReport } {
  const config = parseConfig(readConfig(dir));
  return buildModel(config, loadCheckpointFolder(dir));
}
