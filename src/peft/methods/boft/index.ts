import { ConfigError } from '../../../errors.js';
import { Linear } from '../../../nn/index.js';
import { trainableBiases } from '../../targets.js';
import type { LayerMethod } from '../../method.js';
import { LORA_DEFAULT_TARGETS } from '../lora/index.js';
import { blockLayout } from '../oft/rotation.js';
import { type BoftConfig, boftConfigSpec } from './config.js';
import { BoftLayer } from './layer.js';

export { BoftLayer } from './layer.js';
export type { BoftConfig } from './config.js';

const layoutFields = (c: BoftConfig) => ({ blocks: ['boft_block_num', c.boft_block_num] as [string, number], size: ['boft_block_size', c.boft_block_size] as [string, number] });

/** Butterfly orthogonal finetuning, HF PEFT's BOFT as it runs on CPU (one butterfly factor). */
export const boft: LayerMethod<BoftConfig> = {
  kind: 'layer',
  name: 'boft',
  summary: 'block-diagonal orthogonal rotation (exact Cayley) of the input and a learned output scale',
  effect: 'rotates the weight',
  config: boftConfigSpec,
  // PEFT's TRANSFORMERS_MODELS_TO_BOFT_TARGET_MODULES_MAPPING is a copy of LoRA's.
  defaultTargets: LORA_DEFAULT_TARGETS,

  resolveConfig(config, targets) {
    // Checked for every target before any is wrapped. PEFT's BOFTLayer takes nn.Linear (and Conv2d) only.
    for (const [path, m] of targets) {
      if (m instanceof BoftLayer) continue;
      if (!(m instanceof Linear))
        throw new ConfigError(`[boft] '${path}' is a ${m.constructor.name}; BOFT wraps Linear layers only (as HF PEFT, which refuses GPT-2's Conv1D).`, {
          hint: 'Target nn.Linear layers (e.g. on Llama q_proj, v_proj), or use OFT, which supports Conv1D.',
        });
      blockLayout(layoutFields(config), m.inFeatures, path, 'boft');
    }
  },

  inject(module, { config, adapter, path, generator }) {
    const layer = module instanceof BoftLayer ? module : new BoftLayer(module as Linear);
    const { blocks, blockSize } = blockLayout(layoutFields(config), layer.inFeatures, path, 'boft');
    layer.addAdapter(adapter, { blocks, blockSize, dropout: config.boft_dropout }, config.init_weights, generator);
    return layer;
  },

  extraTrainable: (model, config, targets) => trainableBiases(model, config.bias === 'boft_only' ? 'adapted' : config.bias, targets),
};
