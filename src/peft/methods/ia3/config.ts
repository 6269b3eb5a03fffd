import { ConfigError } from '../../../errors.js';
import { type ConfigSpec, f, type Infer, targetFields } from '../../config.js';
import type { TargetedConfig } from '../../method.js';

/** IA3's adapter_config.json, field for field as HF PEFT 0.21's IA3Config (which has no layers_to_transform). */
const ia3Fields = {
  target_modules: targetFields.target_modules,
  exclude_modules: targetFields.exclude_modules,
  feedforward_modules: f.targets({ default: null, doc: 'targets whose input is scaled (a subset of target_modules: names matched as suffixes, or a regex); null for the model default' }),
  fan_in_fan_out: f.bool({ default: false, doc: 'the base stores [in, out] (GPT-2 Conv1D); set from the model on injection' }),
  modules_to_save: targetFields.modules_to_save,
  init_ia3_weights: f.bool({ default: true, doc: 'start the scaling vectors at 1 (no change); false draws them from N(0, 1)' }),
};

export type IA3Config = TargetedConfig & Infer<typeof ia3Fields> & { peft_type: 'IA3' };

export const ia3ConfigSpec: ConfigSpec<IA3Config> = {
  peftType: 'IA3',
  label: 'ia3',
  fields: ia3Fields,
  validate(c) {
    // PEFT's IA3Config.__post_init__: checked only when both are lists.
    if (Array.isArray(c.feedforward_modules) && Array.isArray(c.target_modules)) {
      const outside = c.feedforward_modules.filter((m) => !c.target_modules!.includes(m));
      if (outside.length) {
        throw new ConfigError(`[ia3] feedforward_modules must be a subset of target_modules; ${JSON.stringify(outside)} ${outside.length > 1 ? 'are' : 'is'} not targeted.`, {
          hint: `Add them to target_modules or drop them from feedforward_modules (targets: ${JSON.stringify(c.target_modules)}).`,
        });
      }
    }
  },
};
