import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, ConfigError } from '../errors.js';
import { loadSafetensors, readTextFile, saveSafetensors, writeTextAtomic } from '../io/index.js';
import type { PretrainedModel } from '../models/index.js';
import { configToJson, PEFT_FORMAT_VERSION } from './config.js';
import { PeftModel } from './peft-model.js';
import { peftMethod, type PeftConfigInput } from './registry.js';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

/** JSON with sorted keys at every level and two-space indent, as json.dumps(sort_keys=True, indent=2). */
export function sortedJson(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
          )
        : v;
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

/** Where HF PEFT puts an adapter: the folder itself for 'default', a subfolder of its name otherwise. */
export function adapterDir(dir: string, name: string): string {
  return name === 'default' ? dir : join(dir, name);
}

/**
 * Saves adapters as HF PEFT's save_pretrained does: adapter_config.json (sorted keys,
 * inference_mode true) and adapter_model.safetensors (format: pt) with the adapter name
 * stripped from every key. Both files are written atomically.
 */
export function saveAdapters(peft: PeftModel, dir: string, options: { adapters?: string[]; baseModelNameOrPath?: string } = {}): string[] {
  const written: string[] = [];
  for (const name of options.adapters ?? peft.listAdapters()) {
    const { config, method } =
      peft.adapters.get(name) ??
      (() => {
        throw new ConfigError(`[save] no adapter named '${name}'.`, { hint: `Adapters: ${peft.listAdapters().join(', ')}.` });
      })();
    const target = adapterDir(dir, name);
    mkdirSync(target, { recursive: true });
    const json = configToJson({ ...config, inference_mode: true, peft_version: PEFT_FORMAT_VERSION, base_model_name_or_path: options.baseModelNameOrPath ?? config.base_model_name_or_path });
    saveSafetensors(join(target, ADAPTER_WEIGHTS), peft.adapterStateDict(name, 'saved'), { format: 'pt' }, { intDType: method.kind === 'layer' ? method.savedIntDType?.(config) : undefined });
    writeTextAtomic(join(target, ADAPTER_CONFIG), sortedJson(json));
    written.push(target);
  }
  return written;
}

export function readAdapterConfig(dir: string): Record<string, unknown> {
  const path = join(dir, ADAPTER_CONFIG);
  if (!existsSync(path)) throw new ConfigError(`[adapter] ${path} not found.`, { hint: 'Point at a folder written by save_pretrained (adapter_config.json + adapter_model.safetensors).' });
  const text = readTextFile(path, (problem, cause) => new ConfigError(`[adapter] ${path} ${problem}.`, { hint: 'Point at a folder written by save_pretrained.', cause }));
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (cause) {
    throw new ConfigError(`[adapter] ${path} is not valid JSON.`, { hint: 'Re-save the adapter.', cause });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw) || !('peft_type' in raw))
    throw new ConfigError(`[adapter] ${path} has no peft_type.`, { hint: 'Every PEFT adapter config names its peft_type (e.g. "LORA").' });
  return raw as Record<string, unknown>;
}

/**
 * Loads an adapter folder into `peft` under `name`: builds the adapter from its config, then
 * fills every tensor, checking that each key exists and fits, and that no key is left over.
 */
export function loadAdapter(peft: PeftModel, dir: string, name = 'default', options: { trainable?: boolean } = {}): void {
  const raw = readAdapterConfig(dir);
  peftMethod(raw.peft_type); // an unknown peft_type fails here, before the model is touched
  const weightsPath = join(dir, ADAPTER_WEIGHTS);
  if (!existsSync(weightsPath)) {
    const hint = existsSync(join(dir, 'adapter_model.bin')) ? 'adapter_model.bin is a pickle, which peft-ts never loads: re-save with safe_serialization=True.' : 'Re-save the adapter.';
    throw new CheckpointError(`[adapter] ${weightsPath} not found.`, { hint });
  }
  const tensors = loadSafetensors(weightsPath);
  const previous = peft.activeAdapters;
  // The file's fields are checked at run time by the method's declaration.
  peft.addAdapter(name, { ...raw, inference_mode: !options.trainable } as PeftConfigInput);
  const expected = peft.adapterStateDict(name, 'saved');
  // Layers that rebuild their parameters from the saved form themselves (VB-LoRA's top-k weights).
  const ownLoaders = peft
    .tunerLayers()
    .filter(([, l]) => l.loadSaved && l.adapterNames().includes(name))
    .map(([path, l]) => [`base_model.model.${path}.`, l] as const);
  for (const key of tensors.keys()) {
    if (!expected.has(key)) {
      peft.deleteAdapter(name);
      throw new CheckpointError(`[adapter] '${key}' in ${weightsPath} matches nothing in the model with this adapter config.`, {
        hint: 'The adapter was trained on a different base model, or its config does not match its weights.',
      });
    }
  }
  // A prompt encoder's saved output (p-tuning, projected prefix) is no parameter: nothing could train it.
  const stored = new Set(peft.model.parameters());
  const promptBased = peft.adapters.get(name)!.method.kind === 'input';
  for (const [key, param] of expected) {
    if (promptBased && !stored.has(param)) {
      peft.deleteAdapter(name);
      throw new CheckpointError(`[adapter] '${key}' is the output of the adapter's encoder (p-tuning, prefix projection), which the file does not hold, so it cannot be loaded for training.`, {
        hint: 'Load the adapter for inference (frozen), or train a new one.',
      });
    }
    const value = tensors.get(key);
    if (!value) {
      peft.deleteAdapter(name);
      throw new CheckpointError(`[adapter] ${weightsPath} lacks '${key}'.`, { hint: 'The file is incomplete or belongs to another config.' });
    }
    if (value.ndim !== param.ndim || value.shape.some((d, i) => d !== param.shape[i])) {
      peft.deleteAdapter(name);
      throw new CheckpointError(`[adapter] '${key}' has shape [${value.shape.join(', ')}] but the model needs [${param.shape.join(', ')}].`, {
        hint: 'The adapter was trained for a different base model (or a different r).',
      });
    }
    if (!ownLoaders.some(([prefix]) => key.startsWith(prefix))) (param.data as Float32Array).set(value.float().contiguousData(), param.offset);
  }
  for (const [prefix, layer] of ownLoaders) {
    const saved = new Map([...tensors].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
    layer.loadSaved!(name, saved);
  }
  if (!options.trainable) {
    peft.setAdapter(previous.length ? previous : [name]);
    peft.model.freeze();
  }
}

/** Loads a base model's adapter from disk, as PeftModel.from_pretrained. */
export function loadPeftModel<M extends PretrainedModel>(model: M, dir: string, options: { adapterName?: string; trainable?: boolean } = {}): PeftModel<M> {
  const peft = new PeftModel(model);
  loadAdapter(peft, dir, options.adapterName ?? 'default', options);
  peft.setAdapter(options.adapterName ?? 'default');
  if (!options.trainable) model.freeze();
  return peft;
}
