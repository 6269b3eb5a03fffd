import type { LayerMethod } from '../../method.js';
import { LORA_DEFAULT_TARGETS } from '../lora/index.js';
import { lycorisSettings, requireLinear } from '../lycoris/layer.js';
import { type LoKrConfig, lokrConfigSpec } from './config.js';
import { LoKrLayer } from './layer.js';

export { LoKrLayer } from './layer.js';
export { factorization } from './factorization.js';
export type { LoKrConfig } from './config.js';

/** LoKr (LyCORIS): a Kronecker product of two small factors added to the weight. */
export const lokr: LayerMethod<LoKrConfig> = {
  kind: 'layer',
  name: 'lokr',
  summary: 'Kronecker product of two small factors kron(W1, W2) added to the weight',
  effect: 'adds a weight delta',
  config: lokrConfigSpec,
  // PEFT's TRANSFORMERS_MODELS_TO_LOKR_TARGET_MODULES_MAPPING is a copy of LoRA's.
  defaultTargets: LORA_DEFAULT_TARGETS,

  inject(module, { config, adapter, path, generator }) {
    const layer = module instanceof LoKrLayer ? module : new LoKrLayer(requireLinear(module, path, 'lokr', 'LoKr'));
    const { r, settings } = lycorisSettings(path, config, config.rank_dropout_scale);
    layer.addAdapter(adapter, r, settings, { decomposeBoth: config.decompose_both, decomposeFactor: config.decompose_factor }, config.init_weights, generator);
    return layer;
  },
};
