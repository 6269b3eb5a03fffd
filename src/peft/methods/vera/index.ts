import { ConfigError } from '../../../errors.js';
import { Tensor } from '../../../tensor/index.js';
import type { LayerMethod, SharedTensor } from '../../method.js';
import { targetsStoreInOut } from '../../tuner-layer.js';
import { isLinearLike, trainableBiases } from '../../targets.js';
import { LORA_DEFAULT_TARGETS } from '../lora/index.js';
import { type VeraConfig, veraConfigSpec } from './config.js';
import { VeraLayer } from './layer.js';
import { veraProjections } from './projections.js';

export { VeraLayer } from './layer.js';
export { veraProjections } from './projections.js';
export type { VeraConfig } from './config.js';

/** VeRA: frozen random projections shared by all layers, with trained per-layer scaling vectors. */
export const vera: LayerMethod<VeraConfig> = {
  kind: 'layer',
  name: 'vera',
  summary: 'shared frozen random projections B, A with trained scaling vectors: lambda_b ⊙ B (lambda_d ⊙ A x)',
  effect: 'adds a weight delta',
  config: veraConfigSpec,
  // PEFT's TRANSFORMERS_MODELS_TO_VERA_TARGET_MODULES_MAPPING is LoRA's (differing only for phi).
  defaultTargets: LORA_DEFAULT_TARGETS,

  resolveConfig(config, targets) {
    config.fan_in_fan_out = targetsStoreInOut(targets);
  },

  createShared(config, targets) {
    const { A, B } = veraProjections(config.r, config.projection_prng_key, targets);
    const shared = (tensor: Tensor): SharedTensor => ({ tensor, trainable: false, saved: config.save_projection });
    return new Map([
      ['vera_A', shared(A)],
      ['vera_B', shared(B)],
    ]);
  },

  inject(module, { config, adapter, path, generator, shared }) {
    const layer = module instanceof VeraLayer ? module : isLinearLike(module) ? new VeraLayer(module) : null;
    if (!layer) throw new ConfigError(`[vera] '${path}' is a ${module.constructor.name}; VeRA wraps Linear and Conv1D layers.`, { hint: 'Target linear layers only.' });
    const { outFeatures } = layer.base_layer;
    const lambdaB = config.init_weights ? Tensor.zeros([outFeatures]) : Tensor.ones([outFeatures]);
    const lambdaD = config.init_weights
      ? Tensor.full([config.r], config.d_initial)
      : new Tensor(
          Float32Array.from({ length: config.r }, () => generator.normal()),
          [config.r],
        );
    // The projections were sized from these same targets (createShared), so every slice fits.
    layer.addAdapter(adapter, { A: shared.get('vera_A')!.tensor, B: shared.get('vera_B')!.tensor }, config.vera_dropout, lambdaB, lambdaD);
    return layer;
  },

  extraTrainable(model, config, targets) {
    return trainableBiases(model, config.bias === 'vera_only' ? 'adapted' : config.bias, targets);
  },
};
