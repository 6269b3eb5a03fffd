import type { LayerMethod } from '../../method.js';
import { LORA_DEFAULT_TARGETS } from '../lora/index.js';
import { lycorisSettings, requireLinear } from '../lycoris/layer.js';
import { type LoHaConfig, lohaConfigSpec } from './config.js';
import { LoHaLayer } from './layer.js';

export { LoHaLayer } from './layer.js';
export type { LoHaConfig } from './config.js';

/** LoHa (LyCORIS): a Hadamard product of two low-rank products added to the weight. */
export const loha: LayerMethod<LoHaConfig> = {
  kind: 'layer',
  name: 'loha',
  summary: 'Hadamard product of two low-rank updates (W1a W1b) ⊙ (W2a W2b) added to the weight',
  effect: 'adds a weight delta',
  config: lohaConfigSpec,
  // PEFT's TRANSFORMERS_MODELS_TO_LOHA_TARGET_MODULES_MAPPING is a copy of LoRA's.
  defaultTargets: LORA_DEFAULT_TARGETS,

  inject(module, { config, adapter, path, generator }) {
    const layer = module instanceof LoHaLayer ? module : new LoHaLayer(requireLinear(module, path, 'loha', 'LoHa'));
    // PEFT's LoHa always rescales the rows rank_dropout keeps.
    const { r, settings } = lycorisSettings(path, config, true);
    layer.addAdapter(adapter, r, settings, !config.init_weights, generator);
    return layer;
  },
};
