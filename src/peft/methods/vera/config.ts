import { type ConfigSpec, f, type Infer, targetFields } from '../../config.js';
import type { TargetedConfig } from '../../method.js';

/** VeRA's adapter_config.json, field for field as HF PEFT 0.21's VeraConfig (which has no exclude_modules). */
const veraFields = {
  target_modules: targetFields.target_modules,
  layers_to_transform: targetFields.layers_to_transform,
  layers_pattern: targetFields.layers_pattern,
  modules_to_save: targetFields.modules_to_save,
  r: f.int({ default: 256, min: 1, doc: 'rank of the shared random projections vera_A [r, in] and vera_B [out, r]' }),
  projection_prng_key: f.int({ default: 0, doc: "seed of PyTorch's CPU generator that draws vera_A and vera_B (kaiming-uniform)" }),
  save_projection: f.bool({ default: true, doc: 'save vera_A / vera_B in the adapter file; false regenerates them from projection_prng_key on load' }),
  vera_dropout: f.number({ default: 0, min: 0, max: 1, maxExclusive: true, doc: 'dropout on the adapter input' }),
  d_initial: f.number({ default: 0.1, doc: 'initial value of every entry of lambda_d' }),
  fan_in_fan_out: f.bool({ default: false, doc: 'the base stores [in, out] (GPT-2 Conv1D); set from the model on injection' }),
  bias: f.oneOf(['none', 'all', 'vera_only'], { default: 'none', doc: 'which biases train with the adapter' }),
  init_weights: f.bool({ default: true, doc: 'lambda_b = 0 and lambda_d = d_initial (no change at start); false: lambda_b = 1, lambda_d ~ N(0, 1)' }),
};

export type VeraConfig = TargetedConfig & Infer<typeof veraFields> & { peft_type: 'VERA'; bias: 'none' | 'all' | 'vera_only' };

export const veraConfigSpec: ConfigSpec<VeraConfig> = { peftType: 'VERA', label: 'vera', fields: veraFields };
