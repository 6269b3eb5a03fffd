import { ConfigError } from '../../../errors.js';
import type { LayerMethod } from '../../method.js';
import { targetsStoreInOut } from '../../tuner-layer.js';
import { isLinearLike } from '../../targets.js';
import { type IA3Config, ia3ConfigSpec } from './config.js';
import { IA3Layer } from './layer.js';

export { IA3Layer } from './layer.js';
export type { IA3Config } from './config.js';

/** HF PEFT's TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING for the architectures peft-ts loads. */
const IA3_DEFAULT_TARGETS = {
  gpt2: ['c_attn', 'mlp.c_proj'],
  llama: ['k_proj', 'v_proj', 'down_proj'],
  mistral: ['k_proj', 'v_proj', 'down_proj'],
  qwen2: ['q_proj', 'v_proj', 'down_proj'],
  bert: ['key', 'value', 'output.dense'],
} as const satisfies Record<string, readonly string[]>;

/** HF PEFT's TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING, likewise. */
const IA3_DEFAULT_FEEDFORWARD: Record<string, readonly string[]> = {
  gpt2: ['mlp.c_proj'],
  llama: ['down_proj'],
  mistral: ['down_proj'],
  qwen2: ['down_proj'],
  bert: ['output.dense'],
};

/** PEFT's rule: a regex must match the whole path; a list entry matches the END of the path (no dot boundary: 'output.dense' also hits 'attention.output.dense'). */
function isFeedforward(path: string, spec: string | readonly string[]): boolean {
  return typeof spec === 'string' ? new RegExp(`^(?:${spec})$`).test(path) : spec.some((key) => path.endsWith(key));
}

/** (IA)^3: learned vectors that rescale activations (the input of feed-forward layers, the output of the others). */
export const ia3: LayerMethod<IA3Config> = {
  kind: 'layer',
  name: 'ia3',
  summary: 'learned vectors rescaling layer outputs (attention) or inputs (feed-forward)',
  effect: 'scales activations',
  config: ia3ConfigSpec,
  defaultTargets: IA3_DEFAULT_TARGETS,

  resolveConfig(config, targets, modelType) {
    if (config.feedforward_modules === null) {
      const defaults = IA3_DEFAULT_FEEDFORWARD[modelType];
      if (!defaults)
        throw new ConfigError(`[ia3] no feedforward_modules given and no default for model_type '${modelType}'.`, {
          hint: 'Pass feedforward_modules (the targets whose input is scaled, e.g. ["down_proj"]; [] for none).',
        });
      config.feedforward_modules = [...defaults];
    }
    config.fan_in_fan_out = targetsStoreInOut(targets);
  },

  inject(module, { config, adapter, path, generator }) {
    const feedforward = isFeedforward(path, config.feedforward_modules ?? []);
    if (module instanceof IA3Layer && module.isFeedforward !== feedforward) {
      throw new ConfigError(`[ia3] '${path}' already holds an adapter with feedforward ${module.isFeedforward}; a new adapter must treat it the same way.`, {
        hint: 'Use the same feedforward_modules for every IA3 adapter on this model.',
      });
    }
    const layer = module instanceof IA3Layer ? module : isLinearLike(module) ? new IA3Layer(module, feedforward) : null;
    if (!layer) {
      throw new ConfigError(`[ia3] '${path}' is a ${module.constructor.name}; IA3 wraps Linear and Conv1D layers.`, { hint: 'Target linear layers only (exclude_modules can drop this one).' });
    }
    layer.addAdapter(adapter, config.init_ia3_weights, () => generator.normal());
    return layer;
  },
};
