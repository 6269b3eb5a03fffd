import { ConfigError } from '../../../errors.js';
import { type ConfigSpec, f, type Field, type Infer } from '../../config.js';
import type { TargetedConfig } from '../../method.js';
import { loraFields } from '../lora/config.js';

/** PEFT's rank_pattern for AdaLoRA: per module '<path>.lora_E', which of the init_r triplets survived the budget. */
const rankPatternField: Field<Record<string, boolean[]> | null> = {
  accepts: 'null or an object of "<module>.lora_E" -> list of booleans',
  default: null,
  doc: 'the rank allocation PEFT saves after training: which of the init_r triplets each module keeps (null: all)',
  cli: 'json',
  check: (v): v is Record<string, boolean[]> | null =>
    v === null || (typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((m) => Array.isArray(m) && m.every((b) => typeof b === 'boolean'))),
};

/** AdaLoRA's adapter_config.json: HF PEFT 0.21's AdaLoraConfig, which is LoraConfig plus the budget schedule. */
const adaloraFields = {
  ...loraFields,
  r: f.int({ default: 8, min: 0, doc: 'unused by AdaLoRA (PEFT keeps it from LoraConfig); init_r is the starting rank' }),
  init_lora_weights: f.bool({ default: true, doc: 'E = 0 and A, B ~ N(0, 0.02) (a fresh adapter changes nothing); false draws all three from N(0, 1)' }),
  use_dora: f.fixed(false, { doc: 'DoRA (AdaLoRA does not support it)' }),
  use_rslora: f.fixed(false, { doc: 'rank-stabilised scaling (AdaLoRA scales by lora_alpha / ranknum)' }),
  alpha_pattern: f.fixed({}, { doc: 'per-module alphas (AdaLoRA uses one lora_alpha)' }),
  rank_pattern: rankPatternField,
  target_r: f.int({ default: 8, min: 0, doc: 'the average rank per module at the end of the budget schedule' }),
  init_r: f.int({ default: 12, min: 1, doc: 'the rank every module starts with' }),
  tinit: f.int({ default: 0, min: 0, doc: 'warm-up steps before any rank is pruned' }),
  tfinal: f.int({ default: 0, min: 0, doc: 'final steps that train at the target budget with the allocation fixed' }),
  deltaT: f.int({ default: 1, min: 1, doc: 'steps between two re-allocations during the budget phase' }),
  beta1: f.number({ default: 0.85, min: 0, max: 1, maxExclusive: true, doc: 'EMA factor of the sensitivity |w * grad|' }),
  beta2: f.number({ default: 0.85, min: 0, max: 1, maxExclusive: true, doc: "EMA factor of the sensitivity's uncertainty" }),
  orth_reg_weight: f.number({ default: 0.5, min: 0, doc: 'weight of the orthogonality regulariser |A A^T - I| + |B^T B - I| added to the loss' }),
  total_step: {
    ...f.int({ default: 0, min: 1, doc: 'the number of training steps the budget schedule spans (required)' }),
    default: null,
    accepts: 'an integer >= 1',
    check: (v: unknown): v is number | null => v === null || (Number.isInteger(v) && (v as number) >= 1),
  } as Field<number | null>,
};

export type AdaloraConfig = TargetedConfig & Infer<typeof adaloraFields> & { peft_type: 'ADALORA' };

export const adaloraConfigSpec: ConfigSpec<AdaloraConfig> = {
  peftType: 'ADALORA',
  label: 'adalora',
  fields: adaloraFields,
  validate(c) {
    // AdaLoraConfig.__post_init__'s checks.
    if (c.total_step === null)
      throw new ConfigError("[adalora] total_step must be set: AdaLoRA's budget schedule spans that many training steps.", {
        hint: 'Set total_step to the number of optimiser steps of the run, e.g. "total_step": 1000.',
      });
    if (c.tinit >= c.total_step - c.tfinal) {
      throw new ConfigError(`[adalora] tinit (${c.tinit}) must be below total_step - tfinal (${c.total_step} - ${c.tfinal}): the schedule leaves no budgeting phase.`, {
        hint: 'Decrease tinit or tfinal, or increase total_step.',
      });
    }
    if (c.beta1 === 0 || c.beta2 === 0) throw new ConfigError(`[adalora] beta1 and beta2 must be in (0, 1), got ${c.beta1} and ${c.beta2}.`, { hint: "PEFT's default is 0.85 for both." });
  },
};
