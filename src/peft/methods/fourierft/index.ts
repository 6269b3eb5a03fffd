import { ConfigError } from '../../../errors.js';
import { Tensor } from '../../../tensor/index.js';
import type { LayerMethod } from '../../method.js';
import { targetsStoreInOut } from '../../tuner-layer.js';
import { isLinearLike, patternValue, trainableBiases } from '../../targets.js';
import { LORA_DEFAULT_TARGETS } from '../lora/index.js';
import { type FourierFTConfig, fourierftConfigSpec } from './config.js';
import { FourierFTLayer } from './layer.js';
import { frequencyIndices } from './spectrum.js';

export { FourierFTLayer } from './layer.js';
export type { FourierFTConfig } from './config.js';

/** PEFT's TRANSFORMERS_MODELS_TO_FOURIERFT_TARGET_MODULES_MAPPING: LoRA's, except GPT-2's MLP output. */
const FOURIERFT_DEFAULT_TARGETS = { ...LORA_DEFAULT_TARGETS, gpt2: ['mlp.c_proj'] } as const satisfies Record<string, readonly string[]>;

/** FourierFT: a few trained spectral coefficients whose inverse 2-D DFT is the weight update. */
export const fourierft: LayerMethod<FourierFTConfig> = {
  kind: 'layer',
  name: 'fourierft',
  summary: 'trained coefficients at random frequencies; the update is their inverse 2-D DFT',
  effect: 'adds a weight delta',
  config: fourierftConfigSpec,
  defaultTargets: FOURIERFT_DEFAULT_TARGETS,

  resolveConfig(config, targets) {
    config.fan_in_fan_out = targetsStoreInOut(targets);
  },

  inject(module, { config, adapter, path, generator }) {
    const layer = module instanceof FourierFTLayer ? module : isLinearLike(module) ? new FourierFTLayer(module) : null;
    if (!layer) throw new ConfigError(`[fourierft] '${path}' is a ${module.constructor.name}; FourierFT wraps Linear and Conv1D layers.`, { hint: 'Target linear layers only.' });
    const { inFeatures, outFeatures } = layer.base_layer;
    const n = patternValue(path, config.n_frequency_pattern, config.n_frequency);
    if (n > inFeatures * outFeatures) {
      throw new ConfigError(`[fourierft] n_frequency ${n} exceeds the ${outFeatures} x ${inFeatures} = ${inFeatures * outFeatures} frequencies of '${path}'.`, {
        hint: 'Use at most in_features * out_features coefficients (n_frequency_pattern can lower it per module).',
      });
    }
    const spectrum = config.init_weights
      ? Tensor.zeros([n])
      : new Tensor(
          Float32Array.from({ length: n }, () => generator.normal()),
          [n],
        );
    layer.addAdapter(adapter, spectrum, frequencyIndices(outFeatures, inFeatures, n, config.random_loc_seed), config.scaling);
    return layer;
  },

  extraTrainable(model, config, targets) {
    return trainableBiases(model, config.bias === 'fourier_only' ? 'adapted' : config.bias, targets);
  },
};
