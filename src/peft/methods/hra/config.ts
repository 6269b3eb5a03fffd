import { type ConfigSpec, f, type Infer, targetFields } from '../../config.js';
import type { TargetedConfig } from '../../method.js';

/** HRA's adapter_config.json, field for field as HF PEFT 0.21's HRAConfig (PEFT's defaults). */
const hraFields = {
  ...targetFields,
  r: f.int({ default: 8, min: 1, doc: 'number of Householder reflections (even, for the identity init)' }),
  apply_GS: f.bool({ default: false, doc: 'orthogonalise the reflection vectors by Gram-Schmidt first' }),
  init_weights: f.bool({ default: true, doc: 'pairs of equal vectors, so the reflections cancel and a fresh adapter is the identity (needs an even r; an odd r is random, as in PEFT)' }),
  bias: f.oneOf(['none', 'all', 'hra_only'], { default: 'none', doc: 'which biases train and are saved with the adapter: none, every bias, or those of the adapted layers' }),
};

export type HraConfig = TargetedConfig & Infer<typeof hraFields> & { peft_type: 'HRA' };

export const hraConfigSpec: ConfigSpec<HraConfig> = { peftType: 'HRA', label: 'hra', fields: hraFields };
