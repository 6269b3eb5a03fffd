import { ConfigError } from '../../../errors.js';
import { Conv1D, type Module } from '../../../nn/index.js';
import type { PeftMethod } from '../../method.js';
import { isLinearLike, patternValue } from '../../targets.js';
import { type LoraConfig, loraConfigToJson, parseLoraConfig } from './config.js';
import { initLora } from './init.js';
import { LoraLayer } from './layer.js';

export { LoraLayer } from './layer.js';
export type { LoraConfig, LoraInit } from './config.js';
export { parseLoraConfig } from './config.js';
export { addWeightedAdapter, type CombinationType, type WeightedAdapterOptions } from './combine.js';

/** The LoRA family (LoRA, rsLoRA, DoRA, PiSSA/OLoRA init) in HF PEFT's format. */
export const lora: PeftMethod<LoraConfig> = {
  peftType: 'LORA',
  parseConfig: parseLoraConfig,
  configToJson: loraConfigToJson,

  inject(module: Module, path: string, config: LoraConfig, name: string, generator): LoraLayer {
    const layer = module instanceof LoraLayer ? module : isLinearLike(module) ? new LoraLayer(module) : null;
    if (!layer) {
      throw new ConfigError(`[lora] '${path}' is a ${module.constructor.name}; LoRA wraps Linear and Conv1D layers.`, { hint: 'Target linear layers only (exclude_modules can drop this one).' });
    }
    // PEFT's convention: fan_in_fan_out describes the stored layout, true exactly for Conv1D.
    config.fan_in_fan_out = layer.base_layer instanceof Conv1D;
    const r = patternValue(path, config.rank_pattern, config.r);
    // A rank beyond the layer's larger side adds nothing and could ask for gigabytes (r: 1e8).
    const width = Math.max(layer.inFeatures, layer.outFeatures);
    if (r > width) throw new ConfigError(`[lora] rank ${r} for '${path}' exceeds the layer's larger dimension (${layer.inFeatures} -> ${layer.outFeatures}).`, { hint: `Use r <= ${width} (typical ranks are 4-64).` });
    const alpha = patternValue(path, config.alpha_pattern, config.lora_alpha);
    const scaling = config.use_rslora ? alpha / Math.sqrt(r) : alpha / r;
    layer.addAdapter(name, r, scaling, config.lora_dropout, config.use_dora);
    initLora(layer, name, config.init_lora_weights, generator);
    if (config.use_dora) layer.initDoraMagnitude(name);
    return layer;
  },

  extraTrainable(model, config, targets) {
    if (config.bias === 'none') return [];
    const names = model.namedParameters().map(([n]) => n).filter((n) => n.endsWith('.bias'));
    return config.bias === 'all' ? names : names.filter((n) => targets.some((t) => n === `${t}.base_layer.bias`));
  },
};
