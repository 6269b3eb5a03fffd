import { type ConfigSpec, f, type Infer } from '../../config.js';
import type { TargetedConfig } from '../../method.js';
import { lycorisFields } from '../lycoris/config.js';

/** LoKr's adapter_config.json, field for field as HF PEFT 0.21's LoKrConfig. */
const lokrFields = {
  ...lycorisFields,
  decompose_both: f.bool({ default: false, doc: 'also write the left Kronecker factor as a rank-r product (when r is small enough)' }),
  decompose_factor: f.int({ default: -1, doc: 'Kronecker factor size to aim for; -1 picks factors near the square root of each dimension' }),
  rank_dropout_scale: f.bool({ default: false, doc: 'rescale the rows rank_dropout keeps by 1 / (fraction kept)' }),
  init_weights: f.oneOf([true, false, 'lycoris'], { default: true, doc: 'left factor 0 (true), all random (false), or right factor 0 as LyCORIS does ("lycoris")' }),
};

export type LoKrInit = boolean | 'lycoris';
export type LoKrConfig = TargetedConfig & Infer<typeof lokrFields> & { peft_type: 'LOKR'; init_weights: LoKrInit };

export const lokrConfigSpec: ConfigSpec<LoKrConfig> = { peftType: 'LOKR', label: 'lokr', fields: lokrFields };
