import { ConfigError } from '../../errors.js';
import { ConfigReader } from '../config-fields.js';
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
  const act = r.string('hidden_act', 'gelu');
  if (act !== 'gelu') throw new ConfigError(`[config] hidden_act '${act}' is not supported for bert.`, { hint: "Only 'gelu' is implemented." });
  const id2label = raw.id2label as Record<string, string> | undefined;
  const architectures = (raw.architectures as string[] | undefined) ?? [];
  return {
    modelType: 'bert',
    vocabSize: r.int('vocab_size'),
    hiddenSize: r.int('hidden_size'),
    numLayers: r.int('num_hidden_layers'),
    maxPositions: r.int('max_position_embeddings', 512),
    numHeads: r.int('num_attention_heads'),
    intermediateSize: r.int('intermediate_size'),
    typeVocabSize: r.int('type_vocab_size', 2),
    layerNormEps: r.number('layer_norm_eps', 1e-12),
    hiddenDropout: r.number('hidden_dropout_prob', 0.1),
    numLabels: r.int('num_labels', id2label ? Object.keys(id2label).length : 2),
    withClassifier: architectures.length === 0 || architectures.includes('BertForSequenceClassification'),
    padTokenId: r.optionalInt('pad_token_id'),
    raw,
  };
}
