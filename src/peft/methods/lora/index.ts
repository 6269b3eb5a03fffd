import { ConfigError } from '../../../errors.js';
import type { LayerMethod } from '../../method.js';
import { targetsStoreInOut } from '../../tuner-layer.js';
import { isLinearLike, patternValue, trainableBiases } from '../../targets.js';
import { type LoraConfig, loraConfigSpec } from './config.js';
import { initLora } from './init.js';
import { LoraLayer } from './layer.js';

export { LoraLayer } from './layer.js';
export type { LoraConfig, LoraInit } from './config.js';
export { addWeightedAdapter, type CombinationType, type WeightedAdapterOptions } from './combine.js';

/** HF PEFT's TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING for the architectures peft-ts loads. */
export const LORA_DEFAULT_TARGETS = {
  gpt2: ['c_attn'],
  llama: ['q_proj', 'v_proj'],
  mistral: ['q_proj', 'v_proj'],
  qwen2: ['q_proj', 'v_proj'],
  bert: ['query', 'value'],
} as const satisfies Record<string, readonly string[]>;

/** The LoRA family (LoRA, rsLoRA, DoRA, PiSSA/OLoRA init) in HF PEFT's format. */
export const lora: LayerMethod<LoraConfig> = {
  kind: 'layer',
  name: 'lora',
  summary: 'low-rank update B@A added to the weight (rsLoRA, DoRA, PiSSA/OLoRA init)',
  effect: 'adds a weight delta',
  config: loraConfigSpec,
  defaultTargets: LORA_DEFAULT_TARGETS,

  resolveConfig(config, targets) {
    // PEFT's convention: fan_in_fan_out describes the stored layout, true exactly for Conv1D.
    config.fan_in_fan_out = targetsStoreInOut(targets);
  },

  inject(module, { config, adapter, path, generator }) {
    const layer = module instanceof LoraLayer ? module : isLinearLike(module) ? new LoraLayer(module) : null;
    if (!layer) {
      throw new ConfigError(`[lora] '${path}' is a ${module.constructor.name}; LoRA wraps Linear and Conv1D layers.`, { hint: 'Target linear layers only (exclude_modules can drop this one).' });
    }
    const r = patternValue(path, config.rank_pattern, config.r);
    // A rank beyond the layer's larger side adds nothing and could ask for gigabytes (r: 1e8).
    const width = Math.max(layer.inFeatures, layer.outFeatures);
    if (r > width)
      throw new ConfigError(`[lora] rank ${r} for '${path}' exceeds the layer's larger dimension (${layer.inFeatures} -> ${layer.outFeatures}).`, {
        hint: `Use r <= ${width} (typical ranks are 4-64).`,
      });
    const alpha = patternValue(path, config.alpha_pattern, config.lora_alpha);
    const scaling = config.use_rslora ? alpha / Math.sqrt(r) : alpha / r;
    layer.addAdapter(adapter, r, scaling, config.lora_dropout, config.use_dora);
    initLora(layer, adapter, config.init_lora_weights, generator);
    if (config.use_dora) layer.initDoraMagnitude(adapter);
    return layer;
  },

  extraTrainable(model, config, targets) {
    return trainableBiases(model, config.bias === 'lora_only' ? 'adapted' : config.bias, targets);
  },
};
