import { f, targetFields } from '../../config.js';

/**
 * The fields HF PEFT 0.21's LycorisConfig subclasses (LoHa, LoKr) share, with PEFT's defaults.
 * Each method spreads these and adds its own.
 */
export const lycorisFields = {
  ...targetFields,
  r: f.int({ default: 8, min: 1, doc: 'rank of the factors' }),
  alpha: f.number({ default: 8, doc: 'scaling numerator: the update is scaled by alpha / r' }),
  rank_dropout: f.number({ default: 0, min: 0, max: 1, doc: 'in training, drop each output row of the update with this probability' }),
  module_dropout: f.number({ default: 0, min: 0, max: 1, doc: 'in training, skip the whole adapter with this probability' }),
  use_effective_conv2d: f.bool({ default: false, doc: 'CP decomposition for Conv2d kernels; no effect on the Linear layers peft-ts adapts' }),
  rank_pattern: f.numberRecord({ doc: 'per-module ranks: {name or regex: r}' }),
  alpha_pattern: f.numberRecord({ doc: 'per-module alphas: {name or regex: alpha}' }),
};
