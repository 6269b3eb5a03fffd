import type { ArchSpec } from '../model.js';
import { parseLlamaConfig, type LlamaConfig } from './config.js';
import { numLabelsOf } from '../sequence-classification.js';
import { LlamaForCausalLM, LlamaForSequenceClassification } from './model.js';

export { LlamaForCausalLM, LlamaForSequenceClassification, LlamaModel } from './model.js';
export type { LlamaConfig } from './config.js';

function spec(modelType: 'llama' | 'qwen2' | 'mistral'): ArchSpec<LlamaConfig> {
  return { modelType, parseConfig: (raw) => parseLlamaConfig(raw, modelType), create: (config) => new LlamaForCausalLM(config),
    createSequenceClassifier: (config, numLabels) => new LlamaForSequenceClassification({ ...config, numLabels: numLabels ?? numLabelsOf(config.raw) }),
  };
}

export const llama = spec('llama');
export const qwen2 = spec('qwen2');
export const mistral = spec('mistral');
