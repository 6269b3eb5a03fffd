import { ConfigReader, MAX_SIZE } from '../config-fields.js';
import type { ModelConfig } from '../model.js';

export interface BertConfig extends ModelConfig {
  numHeads: number;
  intermediateSize: number;
  typeVocabSize: number;
  layerNormEps: number;
  hiddenDropout: number;
  numLabels: number;
  /** Which head the checkpoint carries: BertForSequenceClassification or the bare BertModel. */
  withClassifier: boolean;
}

export function parseBertConfig(raw: Record<string, unknown>): BertConfig {
  const r = new ConfigReader(raw, 'bert config');
  r.choice('hidden_act', ['gelu'], 'gelu');
  const id2label = raw.id2label as Record<string, string> | undefined;
  const architectures = Array.isArray(raw.architectures) ? (raw.architectures as unknown[]) : [];
  const hidden = r.size('hidden_size', MAX_SIZE.hidden);
  const heads = r.size('num_attention_heads', MAX_SIZE.heads);
  if (hidden % heads !== 0) r.fail('num_attention_heads', `a divisor of hidden_size (${hidden})`);
  return {
    modelType: 'bert',
    vocabSize: r.size('vocab_size', MAX_SIZE.vocab),
    hiddenSize: hidden,
    numLayers: r.size('num_hidden_layers', MAX_SIZE.layers),
    maxPositions: r.size('max_position_embeddings', MAX_SIZE.positions, 512),
    numHeads: heads,
    intermediateSize: r.size('intermediate_size', MAX_SIZE.intermediate),
    typeVocabSize: r.size('type_vocab_size', MAX_SIZE.labels, 2),
    layerNormEps: r.positive('layer_norm_eps', 1e-12),
    hiddenDropout: r.probability('hidden_dropout_prob', 0.1),
    numLabels: r.size('num_labels', MAX_SIZE.labels, id2label && typeof id2label === 'object' ? Math.max(1, Object.keys(id2label).length) : 2),
    withClassifier: architectures.length === 0 || architectures.includes('BertForSequenceClassification'),
    padTokenId: r.optionalInt('pad_token_id'),
    raw,
  };
}
