import type { ArchSpec } from '../model.js';
import { parseLlamaConfig, type LlamaConfig } from './config.js';
import { numLabelsOf } from '../sequence-classification.js';
import { LlamaForCausalLM, LlamaForSequenceClassification } from './model.js';

export { LlamaForCausalLM, LlamaForSequenceClassification, LlamaModel } from './model.js';
export type { LlamaConfig } from './config.js';

function spec(modelType: 'llama' | 'qwen2' | 'mistral'): ArchSpec<LlamaConfig> {
  return {
    modelType,
    parseConfig: (raw) => parseLlamaConfig(raw, modelType),
    create: (config) => new LlamaForCausalLM(config),
    parameterCount,
    createSequenceClassifier: (config, numLabels) => new LlamaForSequenceClassification({ ...config, numLabels: numLabels ?? numLabelsOf(config.raw) }),
  };
}

function parameterCount(c: LlamaConfig): number {
  const d = c.hiddenSize,
    q = c.numHeads * c.headDim,
    kv = c.numKVHeads * c.headDim,
    i = c.intermediateSize;
  const attention = d * (q + 2 * kv) + q * d + (c.qkvBias ? q + 2 * kv : 0) + (c.oBias ? d : 0);
  const mlp = 3 * d * i + (c.mlpBias ? 2 * i + d : 0);
  return c.vocabSize * d * (c.tieWordEmbeddings ? 1 : 2) + c.numLayers * (attention + mlp + 2 * d) + d;
}

export const llama = spec('llama');
export const qwen2 = spec('qwen2');
export const mistral = spec('mistral');
