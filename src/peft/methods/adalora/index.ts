import { ConfigError } from '../../../errors.js';
import type { LayerMethod } from '../../method.js';
import { isLinearLike } from '../../targets.js';
import { lora, LORA_DEFAULT_TARGETS } from '../lora/index.js';
import { adaloraTrainingHooks } from './allocator.js';
import { type AdaloraConfig, adaloraConfigSpec } from './config.js';
import { AdaloraLayer } from './layer.js';
import { targetsStoreInOut } from '../../tuner-layer.js';

export { AdaloraLayer } from './layer.js';
export { budgetAt, RankAllocator } from './allocator.js';
export type { AdaloraConfig } from './config.js';

/** The saved allocation of the module at `path` (PEFT writes '<path>.lora_E', in memory also '<path>.lora_E.<adapter>'). */
function savedAllocation(config: AdaloraConfig, path: string, adapter: string): boolean[] | undefined {
  return config.rank_pattern?.[`${path}.lora_E`] ?? config.rank_pattern?.[`${path}.lora_E.${adapter}`];
}

/** AdaLoRA: LoRA in SVD form whose ranks are pruned to a budget during training, HF PEFT's ADALORA. */
export const adalora: LayerMethod<AdaloraConfig> = {
  kind: 'layer',
  name: 'adalora',
  summary: 'SVD-form low-rank update whose ranks are pruned to a budget by importance during training',
  effect: 'adds a weight delta',
  config: adaloraConfigSpec,
  // PEFT's TRANSFORMERS_MODELS_TO_ADALORA_TARGET_MODULES_MAPPING is LoRA's.
  defaultTargets: LORA_DEFAULT_TARGETS,

  resolveConfig(config, targets) {
    config.fan_in_fan_out = targetsStoreInOut(targets);
    for (const [path, m] of targets) {
      const keep = savedAllocation(config, path, '');
      if (keep && keep.length !== config.init_r)
        throw new ConfigError(`[adalora] rank_pattern for '${path}' has ${keep.length} entries but init_r is ${config.init_r}.`, {
          hint: 'rank_pattern lists one boolean per initial triplet; the config and its weights must come from the same run.',
        });
      if (!isLinearLike(m) && !(m instanceof AdaloraLayer))
        throw new ConfigError(`[adalora] '${path}' is a ${m.constructor.name}; AdaLoRA wraps Linear and Conv1D layers.`, { hint: 'Target linear layers only (exclude_modules can drop this one).' });
    }
  },

  inject(module, { config, adapter, path, generator }) {
    const layer = module instanceof AdaloraLayer ? module : new AdaloraLayer(module as never);
    // A saved allocation (PEFT's resize_modules_by_rank_pattern): only the kept triplets exist, but
    // ranknum stays init_r, so the scale is the one the adapter trained with.
    const keep = savedAllocation(config, path, adapter);
    const r = keep ? keep.filter(Boolean).length : config.init_r;
    layer.addAdapter(adapter, { r, ranknum: config.init_r, alpha: config.lora_alpha, dropout: config.lora_dropout, init: config.init_lora_weights, generator });
    return layer;
  },

  extraTrainable: (model, config, targets) => lora.extraTrainable!(model, config as never, targets),

  trainingHooks: ({ adapter, config, layers }) =>
    adaloraTrainingHooks(
      layers.filter((e): e is [string, AdaloraLayer] => e[1] instanceof AdaloraLayer),
      adapter,
      config,
    ),
};
