import { ConfigError } from '../../../errors.js';
import { type ConfigSpec, f, type Infer, targetFields } from '../../config.js';
import type { TargetedConfig } from '../../method.js';

/** OFT's adapter_config.json, field for field as HF PEFT 0.21's OFTConfig (PEFT's defaults). */
const oftFields = {
  ...targetFields,
  r: f.int({ default: 0, min: 0, doc: 'number of OFT blocks per layer (0: derived from oft_block_size); set r or oft_block_size, not both' }),
  oft_block_size: f.int({ default: 32, min: 0, doc: 'size b of each orthogonal block; must divide in_features (0: derived from r)' }),
  module_dropout: f.number({ default: 0, min: 0, max: 1, maxExclusive: true, doc: 'multiplicative dropout: in training, this fraction of blocks is replaced by the identity' }),
  coft: f.bool({ default: false, doc: 'constrained OFT: each block is projected back into an eps-ball around the identity' }),
  eps: f.number({ default: 6e-5, min: 0, doc: "the radius of COFT's ball (only with coft)" }),
  block_share: f.bool({ default: false, doc: 'one block shared by all blocks of a layer' }),
  use_cayley_neumann: f.bool({ default: true, doc: "approximate the Cayley transform by a Neumann series (PEFT's default; the exact transform rotates the other way)" }),
  num_cayley_neumann_terms: f.int({ default: 5, min: 1, doc: 'terms of the Neumann series' }),
  init_weights: f.bool({ default: true, doc: 'zero parameters (every block the identity); false draws them from N(0, 0.1)' }),
  fan_in_fan_out: f.bool({ default: false, doc: 'the base stores [in, out] (GPT-2 Conv1D); set from the model on injection' }),
  bias: f.oneOf(['none', 'all', 'oft_only'], { default: 'none', doc: 'which biases train and are saved with the adapter: none, every bias, or those of the adapted layers' }),
};

export type OftConfig = TargetedConfig & Infer<typeof oftFields> & { peft_type: 'OFT' };

export const oftConfigSpec: ConfigSpec<OftConfig> = {
  peftType: 'OFT',
  label: 'oft',
  fields: oftFields,
  validate(c) {
    // PEFT's OFTConfig.__post_init__: exactly one of r and oft_block_size, because r * oft_block_size = in_features.
    if ((c.r === 0) === (c.oft_block_size === 0)) {
      throw new ConfigError(`[oft] set exactly one of r (${c.r}) and oft_block_size (${c.oft_block_size}) to a non-zero value.`, {
        hint: 'r * oft_block_size = in_features, so one of them fixes the other; e.g. { "r": 0, "oft_block_size": 32 }.',
      });
    }
  },
};
