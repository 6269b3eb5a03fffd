import { type ConfigSpec, f, type Infer } from '../../config.js';
import type { TargetedConfig } from '../../method.js';
import { lycorisFields } from '../lycoris/config.js';

/** LoHa's adapter_config.json, field for field as HF PEFT 0.21's LoHaConfig. */
const lohaFields = {
  ...lycorisFields,
  init_weights: f.bool({ default: true, doc: 'hada_w2_b = 0 so a fresh adapter changes nothing (true), or all factors random (false)' }),
};

export type LoHaConfig = TargetedConfig & Infer<typeof lohaFields> & { peft_type: 'LOHA' };

export const lohaConfigSpec: ConfigSpec<LoHaConfig> = { peftType: 'LOHA', label: 'loha', fields: lohaFields };
