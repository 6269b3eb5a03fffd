import { ConfigError } from '../../../errors.js';
import { type ConfigSpec, f, type Infer, targetFields } from '../../config.js';
import type { TargetedConfig } from '../../method.js';

/** BOFT's adapter_config.json, field for field as HF PEFT 0.21's BOFTConfig (PEFT's defaults). */
const boftFields = {
  ...targetFields,
  boft_block_size: f.int({ default: 4, min: 0, doc: 'size b of each orthogonal block; must divide in_features (0: derived from boft_block_num)' }),
  boft_block_num: f.int({ default: 0, min: 0, doc: 'number of blocks per layer (0: derived from boft_block_size); set one of the two' }),
  // PEFT 0.21 without its CUDA extension (fbd_cuda) replaces any value by 1, so on CPU BOFT is
  // OFT with an exact Cayley transform and an output scale: peft-ts implements that form only.
  boft_n_butterfly_factor: f.fixed(1, { doc: 'butterfly factors; HF PEFT on CPU always runs 1 (its extension is CUDA-only), the only value peft-ts implements' }),
  boft_dropout: f.number({ default: 0, min: 0, max: 1, maxExclusive: true, doc: 'multiplicative dropout: in training, this fraction of blocks is replaced by the identity' }),
  init_weights: f.bool({ default: true, doc: 'zero rotations and unit scales (the identity); false draws R from N(0, 0.1) and s from N(1, 0.1)' }),
  fan_in_fan_out: f.bool({ default: false, doc: 'the base stores [in, out]; always false here (BOFT wraps nn.Linear only)' }),
  bias: f.oneOf(['none', 'all', 'boft_only'], { default: 'none', doc: 'which biases train and are saved with the adapter: none, every bias, or those of the adapted layers' }),
};

export type BoftConfig = TargetedConfig & Infer<typeof boftFields> & { peft_type: 'BOFT' };

export const boftConfigSpec: ConfigSpec<BoftConfig> = {
  peftType: 'BOFT',
  label: 'boft',
  fields: boftFields,
  validate(c) {
    if ((c.boft_block_size === 0) === (c.boft_block_num === 0)) {
      throw new ConfigError(`[boft] set exactly one of boft_block_size (${c.boft_block_size}) and boft_block_num (${c.boft_block_num}) to a non-zero value.`, {
        hint: 'boft_block_size * boft_block_num = in_features, so one of them fixes the other; e.g. { "boft_block_size": 8, "boft_block_num": 0 }.',
      });
    }
  },
};
