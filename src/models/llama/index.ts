import type { ArchSpec } from '../model.js';
import { parseLlamaConfig, type LlamaConfig } from './config.js';
import { LlamaForCausalLM } from './model.js';

export { LlamaForCausalLM, LlamaModel } from './model.js';
export type { LlamaConfig } from './config.js';

function spec(modelType: 'llama' | 'qwen2' | 'mistral'): ArchSpec<LlamaConfig> {
  return { modelType, parseConfig: (raw) => parseLlamaConfig(raw, modelType), create: (config) => new LlamaForCausalLM(config) };
}

export const llama = spec('llama');
export const qwen2 = spec('qwen2');
export const mistral = spec('mistral');
