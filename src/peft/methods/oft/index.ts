import { ConfigError } from '../../../errors.js';
import { Conv1D } from '../../../nn/index.js';
import type { LayerMethod } from '../../method.js';
import { isLinearLike } from '../../targets.js';
import { LORA_DEFAULT_TARGETS } from '../lora/index.js';
import { type OftConfig, oftConfigSpec } from './config.js';
import { OftLayer, type OftSettings } from './layer.js';

export { OftLayer } from './layer.js';
export type { OftConfig } from './config.js';

/** The divisor of `n` nearest to `value` (PEFT's adjust_oft_parameters), offered in the error hint. */
export function nearestDivisor(n: number, value: number): number {
  if (value >= n) return n;
  let higher = value;
  while (higher <= n && n % higher !== 0) higher++;
  let lower = value;
  while (lower > 1 && n % lower !== 0) lower--;
  return value - lower <= higher - value ? lower : higher;
}

/**
 * Blocks and block size for a layer of `inFeatures` inputs. PEFT warns and silently adjusts a
 * value that does not divide in_features; peft-ts refuses it, naming the field and PEFT's choice.
 */
export function blockLayout(config: { r: number; oft_block_size: number }, inFeatures: number, path: string, label: string, sizeField: string): { blocks: number; blockSize: number } {
  const [field, value] = config.r === 0 ? [sizeField, config.oft_block_size] : ['r', config.r];
  if (inFeatures % value !== 0 || value > inFeatures) {
    throw new ConfigError(`[${label}] ${field} = ${value} does not divide in_features = ${inFeatures} of '${path}'.`, { hint: `Pick a divisor of ${inFeatures}, e.g. ${field} = ${nearestDivisor(inFeatures, value)} (the value HF PEFT would silently switch to).` });
  }
  return config.r === 0 ? { blocks: inFeatures / value, blockSize: value } : { blocks: value, blockSize: inFeatures / value };
}

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
    config.fan_in_fan_out = targets.some(([, m]) => m instanceof Conv1D);
    // Every target is checked before any is wrapped, so a bad block size leaves the model untouched.
    for (const [path, m] of targets) if (isLinearLike(m)) blockLayout(config, m.inFeatures, path, 'oft', 'oft_block_size');
  },

  inject(module, { config, adapter, path, generator }) {
    const layer = module instanceof OftLayer ? module : isLinearLike(module) ? new OftLayer(module) : null;
    if (!layer) throw new ConfigError(`[oft] '${path}' is a ${module.constructor.name}; OFT wraps Linear and Conv1D layers.`, { hint: 'Target linear layers only (exclude_modules can drop this one).' });
    const { blocks, blockSize } = blockLayout(config, layer.inFeatures, path, 'oft', 'oft_block_size');
    const settings: OftSettings = {
      blockSize, blocks, blockShare: config.block_share, coft: config.coft, eps: config.eps,
      cayleyNeumann: config.use_cayley_neumann, neumannTerms: config.num_cayley_neumann_terms, moduleDropout: config.module_dropout,
    };
    layer.addAdapter(adapter, settings, config.init_weights, generator);
    return layer;
  },
};
