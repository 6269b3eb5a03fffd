import type { ArchSpec } from '../model.js';
import { parseGPT2Config, type GPT2Config } from './config.js';
import { numLabelsOf } from '../sequence-classification.js';
import { GPT2ForSequenceClassification, GPT2LMHeadModel } from './model.js';

export { GPT2ForSequenceClassification, GPT2LMHeadModel, GPT2Model } from './model.js';
export { initGPT2 } from './init.js';
export type { GPT2Config } from './config.js';

export const gpt2: ArchSpec<GPT2Config> = {
  modelType: 'gpt2',
  parseConfig: parseGPT2Config,
  create: (config) => new GPT2LMHeadModel(config),
  parameterCount: ({ vocabSize: v, hiddenSize: c, maxPositions: p, numLayers: l, tieWordEmbeddings }) => (v + p) * c + l * (12 * c * c + 13 * c) + 2 * c + (tieWordEmbeddings ? 0 : v * c),
  createSequenceClassifier: (config, numLabels) => new GPT2ForSequenceClassification({ ...config, numLabels: numLabels ?? numLabelsOf(config.raw) }),
  // The original gpt2 weights have no 'transformer.' prefix, and older exports carry the
  // causal-mask buffers attn.bias / attn.masked_bias, which are not parameters.
  mapKey: (key, allKeys) => {
    if (/\.attn\.(masked_)?bias$/.test(key)) return null;
    const prefixed = allKeys.some((k) => k.startsWith('transformer.'));
    return prefixed || /^(lm_head|score)\./.test(key) ? key : `transformer.${key}`;
  },
};
