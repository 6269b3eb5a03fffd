import { ConfigError } from '../../../errors.js';
import { Linear } from '../../../nn/index.js';
import { trainableBiases } from '../../targets.js';
import type { LayerMethod } from '../../method.js';
import { LORA_DEFAULT_TARGETS } from '../lora/index.js';
import { type HraConfig, hraConfigSpec } from './config.js';
import { HraLayer } from './layer.js';

export { HraLayer } from './layer.js';
export type { HraConfig } from './config.js';

/** Householder reflection adaptation, HF PEFT's HRA. */
export const hra: LayerMethod<HraConfig> = {
  kind: 'layer',
  name: 'hra',
  summary: 'product of r Householder reflections applied to the weight (optionally Gram-Schmidt orthogonalised)',
  effect: 'rotates the weight',
  config: hraConfigSpec,
  // PEFT's TRANSFORMERS_MODELS_TO_HRA_TARGET_MODULES_MAPPING is a copy of LoRA's.
  defaultTargets: LORA_DEFAULT_TARGETS,

  resolveConfig(_config, targets) {
    // PEFT's HRALayer accepts nn.Linear (and Conv2d) only: GPT-2's Conv1D is refused before anything is wrapped.
    for (const [path, m] of targets) {
      if (!(m instanceof Linear) && !(m instanceof HraLayer))
        throw new ConfigError(`[hra] '${path}' is a ${m.constructor.name}; HRA wraps Linear layers only (as HF PEFT, which refuses GPT-2's Conv1D).`, {
          hint: 'Target nn.Linear layers (e.g. on Llama q_proj, v_proj), or pick a method that supports Conv1D such as LoRA or OFT.',
        });
    }
  },

  inject(module, { config, adapter, generator }) {
    const layer = module instanceof HraLayer ? module : new HraLayer(module as Linear);
    layer.addAdapter(adapter, config.r, config.apply_GS, config.init_weights, generator);
    return layer;
  },

  extraTrainable: (model, config, targets) => trainableBiases(model, config.bias === 'hra_only' ? 'adapted' : config.bias, targets),
};
