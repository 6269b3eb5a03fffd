import { ConfigError } from '../../../errors.js';
import { type ConfigSpec, f, type Infer, targetFields } from '../../config.js';
import type { TargetedConfig } from '../../method.js';

export type LoraInit = boolean | 'gaussian' | 'pissa' | 'olora';

/** LoRA's adapter_config.json, field for field as HF PEFT 0.21's LoraConfig (PEFT's defaults). */
/** Ranks above this are refused outright (each layer also caps r at its own width, see index.ts). */
export const MAX_RANK = 1 << 16;
const isRank = (x: unknown): x is number => Number.isInteger(x) && (x as number) > 0 && (x as number) <= MAX_RANK;

export const loraFields = {
  ...targetFields,
  r: f.int({ default: 8, min: 1, max: MAX_RANK, doc: 'rank of the update B@A' }),
  lora_alpha: f.number({ default: 8, doc: 'scaling numerator: the update is scaled by lora_alpha / r (or / sqrt(r) with use_rslora)' }),
  lora_dropout: f.number({ default: 0, min: 0, max: 1, maxExclusive: true, doc: 'dropout on the adapter input' }),
  fan_in_fan_out: f.bool({ default: false, doc: 'the base stores [in, out] (GPT-2 Conv1D); set from the model on injection' }),
  bias: f.oneOf(['none', 'all', 'lora_only'], { default: 'none', doc: 'which biases train with the adapter' }),
  use_rslora: f.bool({ default: false, doc: 'rank-stabilised scaling lora_alpha / sqrt(r)' }),
  use_dora: f.bool({ default: false, doc: 'DoRA: a learned magnitude per output and a normalised direction' }),
  init_lora_weights: f.oneOf([true, false, 'gaussian', 'pissa', 'olora'], { default: true, doc: 'B = 0 (true), both random (false), gaussian A, or PiSSA/OLoRA from the weight' }),
  rank_pattern: {
    ...f.numberRecord({ doc: 'per-module ranks: {name or regex: r}' }),
    accepts: `an object of pattern -> rank (a positive integer of at most ${MAX_RANK})`,
    check: (v: unknown): v is Record<string, number> => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isRank),
  },
  alpha_pattern: f.numberRecord({ doc: 'per-module alphas: {name or regex: alpha}' }),
  // Fields of PEFT's LoraConfig for features peft-ts does not implement: accepted at their default only.
  alora_invocation_tokens: f.fixed(null, { doc: 'aLoRA (not implemented)' }),
  arrow_config: f.fixed(null, { doc: 'Arrow routing (not implemented)' }),
  corda_config: f.fixed(null, { doc: 'CorDA init (not implemented)' }),
  ensure_weight_tying: f.fixed(false, { doc: 'tied-weight adapters (not implemented)' }),
  eva_config: f.fixed(null, { doc: 'EVA init (not implemented)' }),
  kasa_config: f.fixed(null, { doc: 'KaSA (not implemented)' }),
  layer_replication: f.fixed(null, { doc: 'layer replication (not implemented)' }),
  loftq_config: {
    ...f.fixed({}, { doc: 'LoftQ init (not implemented)' }),
    accepts: '{} or null (the only values peft-ts implements)',
    check: (v: unknown): v is Record<string, never> => v === null || (typeof v === 'object' && v !== null && Object.keys(v).length === 0),
  },
  lora_bias: f.fixed(false, { doc: 'a bias on lora_B (not implemented)' }),
  lora_ga_config: f.fixed(null, { doc: 'LoRA-GA init (not implemented)' }),
  megatron_config: f.fixed(null, { doc: 'Megatron layers (not implemented)' }),
  megatron_core: f.fixed('megatron.core', { doc: 'Megatron module (not implemented)' }),
  monteclora_config: f.fixed(null, { doc: 'MonteCLoRA (not implemented)' }),
  qalora_group_size: f.fixed(16, { doc: 'QALoRA (not implemented)' }),
  target_parameters: f.fixed(null, { doc: 'LoRA on bare parameters (not implemented)' }),
  trainable_token_indices: f.fixed(null, { doc: 'trainable tokens beside LoRA (use the TRAINABLE_TOKENS method)' }),
  use_bdlora: f.fixed(null, { doc: 'BD-LoRA (not implemented)' }),
  use_qalora: f.fixed(false, { doc: 'QALoRA (not implemented)' }),
  velora_config: f.fixed(null, { doc: 'VeLoRA (not implemented)' }),
};

export type LoraConfig = TargetedConfig & Infer<typeof loraFields> & { peft_type: 'LORA'; init_lora_weights: LoraInit; bias: 'none' | 'all' | 'lora_only' };

export const loraConfigSpec: ConfigSpec<LoraConfig> = {
  peftType: 'LORA',
  label: 'lora',
  fields: loraFields,
  validate(c) {
    if ((c.init_lora_weights === 'pissa' || c.init_lora_weights === 'olora') && c.use_dora) {
      throw new ConfigError(`[lora] init_lora_weights must be true, false or "gaussian" with use_dora, got ${JSON.stringify(c.init_lora_weights)}.`, {
        hint: 'PiSSA/OLoRA initialisation does not combine with DoRA.',
      });
    }
  },
};
