import { ConfigError } from '../../../errors.js';
import { uniform_ } from '../../../nn/index.js';
import { Tensor } from '../../../tensor/index.js';
import type { LayerMethod, SharedTensor } from '../../method.js';
import { isLinearLike, trainableBiases } from '../../targets.js';
import { LORA_DEFAULT_TARGETS } from '../lora/index.js';
import { type VbloraConfig, vbloraConfigSpec } from './config.js';
import { VbloraLayer } from './layer.js';
import { targetsStoreInOut } from '../../tuner-layer.js';

export { VbloraLayer } from './layer.js';
export type { VbloraConfig } from './config.js';

/** VB-LoRA: low-rank factors assembled from a shared vector bank, HF PEFT's VBLORA. */
export const vblora: LayerMethod<VbloraConfig> = {
  kind: 'layer',
  name: 'vblora',
  summary: 'low-rank update whose factors are top-k mixes of vectors from one bank shared by all layers',
  effect: 'adds a weight delta',
  config: vbloraConfigSpec,
  // PEFT's TRANSFORMERS_MODELS_TO_VBLORA_TARGET_MODULES_MAPPING is LoRA's.
  defaultTargets: LORA_DEFAULT_TARGETS,

  resolveConfig(config, targets) {
    config.fan_in_fan_out = targetsStoreInOut(targets);
    // Checked for every target before any is wrapped (PEFT's update_layer checks).
    if (config.topk > config.num_vectors)
      throw new ConfigError(`[vblora] topk (${config.topk}) must not exceed num_vectors (${config.num_vectors}).`, { hint: "Each piece mixes topk of the bank's vectors." });
    for (const [path, m] of targets) {
      if (m instanceof VbloraLayer) continue;
      if (!isLinearLike(m))
        throw new ConfigError(`[vblora] '${path}' is a ${m.constructor.name}; VB-LoRA wraps Linear and Conv1D layers.`, { hint: 'Target linear layers only (exclude_modules can drop this one).' });
      for (const [side, n] of [
        ['in_features', m.inFeatures],
        ['out_features', m.outFeatures],
      ] as const) {
        if (n % config.vector_length !== 0)
          throw new ConfigError(`[vblora] vector_length = ${config.vector_length} does not divide ${side} = ${n} of '${path}'.`, {
            hint: `Pick a vector_length that divides both sides of every target (e.g. a divisor of ${n}).`,
          });
      }
    }
  },

  createShared(config, _targets, generator) {
    // PEFT's _init_vblora_vector_bank: uniform in [-bound, bound], trained with the adapter, saved once.
    const bank = uniform_(Tensor.zeros([config.num_vectors, config.vector_length]), -config.init_vector_bank_bound, config.init_vector_bank_bound, generator);
    return new Map<string, SharedTensor>([['vblora_vector_bank', { tensor: bank, trainable: true, saved: true }]]);
  },

  // PEFT's narrowest type for the top-k indices of save_only_topk_weights.
  savedIntDType: (config) => (config.num_vectors < 2 ** 8 ? 'U8' : config.num_vectors < 2 ** 15 ? 'I16' : 'I32'),

  inject(module, { config, adapter, generator, shared }) {
    const layer = module instanceof VbloraLayer ? module : new VbloraLayer(module as never);
    layer.addAdapter(adapter, {
      bank: shared.get('vblora_vector_bank')!.tensor,
      r: config.r,
      topk: config.topk,
      dropout: config.vblora_dropout,
      logitsStd: config.init_logits_std,
      saveTopK: config.save_only_topk_weights,
      generator,
    });
    return layer;
  },

  extraTrainable: (model, config, targets) => trainableBiases(model, config.bias === 'vblora_only' ? 'adapted' : config.bias, targets),
};
