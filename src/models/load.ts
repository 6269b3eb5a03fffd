import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, ConfigError } from '../errors.js';
import { readTextFile } from '../files.js';
import { loadCheckpointFolder } from '../io/safetensors.js';
import type { Tensor } from '../tensor/index.js';
import type { ArchSpec, ModelConfig, PretrainedModel } from './model.js';
import { architecture } from './registry.js';

export function readConfig(dir: string): Record<string, unknown> {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new ConfigError(`[config] ${path} not found.`, { hint: 'Point at a Hugging Face model folder (config.json, model.safetensors, tokenizer.json).' });
  const text = readTextFile(path, (problem, cause) => new ConfigError(`[config] ${path} ${problem}.`, { hint: 'config.json must be a JSON file.', cause }));
  try {
    const raw = JSON.parse(text);
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

/** Builds the model for `config` and fills it from `tensors` (checkpoint names), checking every name and shape. */
export function buildModel(config: ModelConfig, tensors: Map<string, Tensor>): { model: PretrainedModel; report: LoadReport } {
  const spec = architecture(config.modelType);
  const keys = [...tensors.keys()];
  const mapped = new Map<string, Tensor>();
  for (const [key, t] of tensors) {
    const name = spec.mapKey ? spec.mapKey(key, keys) : key;
    if (name !== null) mapped.set(name, t);
  }
  checkConfigAgainstCheckpoint(spec, config, mapped);
  const model = spec.create(config);
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

/** The load report as one line for the user, or null when every key matched. */
export function describeLoadReport(report: LoadReport): string | null {
  const list = (keys: string[]) => `${keys.slice(0, 5).join(', ')}${keys.length > 5 ? `, ... (${keys.length})` : ''}`;
  const parts = [
    report.unexpected.length ? `ignored ${report.unexpected.length} checkpoint tensor(s) the model does not use: ${list(report.unexpected)}` : '',
    report.initialised.length ? `initialised ${report.initialised.length} parameter(s) the checkpoint lacks: ${list(report.initialised)}` : '',
  ].filter(Boolean);
  return parts.length ? `[load] ${parts.join('; ')}.` : null;
}

/** Loads a Hugging Face model folder: config.json + model.safetensors (or shards). */
export function loadPretrained(dir: string): { model: PretrainedModel; report: LoadReport } {
  const config = parseConfig(readConfig(dir));
  return buildModel(config, loadCheckpointFolder(dir));
}
