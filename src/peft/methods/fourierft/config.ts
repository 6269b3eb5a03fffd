import { ConfigError } from '../../../errors.js';
import { type ConfigSpec, f, type Infer, targetFields } from '../../config.js';
import type { TargetedConfig } from '../../method.js';

/** FourierFT's adapter_config.json, field for field as HF PEFT 0.21's FourierFTConfig. */
const fourierftFields = {
  ...targetFields,
  n_frequency: f.int({ default: 1000, min: 1, doc: 'number of trained spectral coefficients per layer (at most in * out)' }),
  scaling: f.number({ default: 150, doc: 'factor on the inverse-DFT update, like lora_alpha' }),
  random_loc_seed: f.int({ default: 777, doc: "seed of PyTorch's generator whose randperm picks the frequencies (PEFT does not save them)" }),
  fan_in_fan_out: f.bool({ default: false, doc: 'the base stores [in, out] (GPT-2 Conv1D); set from the model on injection' }),
  bias: f.oneOf(['none', 'all', 'fourier_only'], { default: 'none', doc: 'which biases train with the adapter' }),
  n_frequency_pattern: f.numberRecord({ doc: 'per-module n_frequency: {name or regex: n}' }),
  init_weights: f.bool({ default: false, doc: 'spectrum = 0 so a fresh adapter changes nothing (true), or N(0, 1) as PEFT defaults to (false)' }),
};

export type FourierFTConfig = TargetedConfig & Infer<typeof fourierftFields> & { peft_type: 'FOURIERFT'; bias: 'none' | 'all' | 'fourier_only' };

export const fourierftConfigSpec: ConfigSpec<FourierFTConfig> = {
  peftType: 'FOURIERFT',
  label: 'fourierft',
  fields: fourierftFields,
  validate(c) {
    // PEFT's FourierFTConfig.__post_init__.
    for (const key of ['layers_to_transform', 'layers_pattern'] as const) {
      if (typeof c.target_modules === 'string' && c[key] !== null && c[key] !== undefined) {
        throw new ConfigError(`[fourierft] ${key} cannot be used when target_modules is a regex string.`, { hint: 'Give target_modules as a list of names, or put the layer choice into the regex.' });
      }
    }
  },
};
