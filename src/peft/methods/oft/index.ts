import { ConfigError } from '../../../errors.js';
import type { LayerMethod } from '../../method.js';
import { isLinearLike, trainableBiases } from '../../targets.js';
import { LORA_DEFAULT_TARGETS } from '../lora/index.js';
import { type OftConfig, oftConfigSpec } from './config.js';
import { OftLayer, type OftSettings } from './layer.js';
import { blockLayout } from './rotation.js';
import { targetsStoreInOut } from '../../tuner-layer.js';

const layoutFields = (c: OftConfig) => ({ blocks: ['r', c.r] as [string, number], size: ['oft_block_size', c.oft_block_size] as [string, number] });

export { OftLayer } from './layer.js';
export type { OftConfig } from './config.js';

/** Orthogonal finetuning: block-diagonal rotations of the input, HF PEFT's OFT. */
export const oft: LayerMethod<OftConfig> = {
  kind: 'layer',
  name: 'oft',
  summary: 'block-diagonal orthogonal rotation of the input (Cayley transform; COFT, block sharing)',
  effect: 'rotates the weight',
  config: oftConfigSpec,
  // PEFT's TRANSFORMERS_MODELS_TO_OFT_TARGET_MODULES_MAPPING is a copy of LoRA's.
  defaultTargets: LORA_DEFAULT_TARGETS,

  resolveConfig(config, targets) {
    config.fan_in_fan_out = targetsStoreInOut(targets);
    // Every target is checked before any is wrapped, so a bad block size leaves the model untouched.
    for (const [path, m] of targets) if (isLinearLike(m)) blockLayout(layoutFields(config), m.inFeatures, path, 'oft');
  },

  inject(module, { config, adapter, path, generator }) {
    const layer = module instanceof OftLayer ? module : isLinearLike(module) ? new OftLayer(module) : null;
    if (!layer)
      throw new ConfigError(`[oft] '${path}' is a ${module.constructor.name}; OFT wraps Linear and Conv1D layers.`, { hint: 'Target linear layers only (exclude_modules can drop this one).' });
    const { blocks, blockSize } = blockLayout(layoutFields(config), layer.inFeatures, path, 'oft');
    const settings: OftSettings = {
      blockSize,
      blocks,
      blockShare: config.block_share,
      coft: config.coft,
      eps: config.eps,
      cayleyNeumann: config.use_cayley_neumann,
      neumannTerms: config.num_cayley_neumann_terms,
      moduleDropout: config.module_dropout,
    };
    layer.addAdapter(adapter, settings, config.init_weights, generator);
    return layer;
  },

  extraTrainable: (model, config, targets) => trainableBiases(model, config.bias === 'oft_only' ? 'adapted' : config.bias, targets),
};
