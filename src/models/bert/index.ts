import type { ArchSpec } from '../model.js';
import { parseBertConfig, type BertConfig } from './config.js';
import { BertForSequenceClassification } from './model.js';

export { BertForSequenceClassification, BertModel } from './model.js';
export type { BertConfig } from './config.js';

export const bert: ArchSpec<BertConfig> = {
  modelType: 'bert',
  parseConfig: parseBertConfig,
  create: (config) => new BertForSequenceClassification(config),
  parameterCount: ({ vocabSize: v, hiddenSize: c, maxPositions: p, typeVocabSize: t, numLayers: l, intermediateSize: i, numLabels, withClassifier }) =>
    (v + p + t + 2) * c + l * (4 * c * c + 2 * c * i + 9 * c + i) + c * c + c + (withClassifier ? numLabels * (c + 1) : 0),
  // A bare BertModel checkpoint gets a fresh classifier head (zeros), to be trained.
  optionalKeys: (config) => (config.withClassifier ? [] : ['classifier.weight', 'classifier.bias']),
  // Bare BertModel exports have no 'bert.' prefix.
  mapKey: (key, allKeys) => (allKeys.some((k) => k.startsWith('bert.')) || key.startsWith('classifier.') ? key : `bert.${key}`),
};
