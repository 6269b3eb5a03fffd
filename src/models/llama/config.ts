import { ConfigError } from '../../errors.js';
import { ConfigReader, MAX_SIZE } from '../config-fields.js';
import type { ModelConfig } from '../model.js';

export interface LlamaConfig extends ModelConfig {
  intermediateSize: number;
  numHeads: number;
  numKVHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  /** Biases on q/k/v (Qwen2 always; Llama when attention_bias). */
  qkvBias: boolean;
  oBias: boolean;
  mlpBias: boolean;
  tieWordEmbeddings: boolean;
}

export type RopeScaling = { type: 'linear'; factor: number } | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

function parseRopeScaling(raw: unknown): RopeScaling | null {
  if (raw === undefined || raw === null) return null;
  const s = raw as Record<string, unknown>;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`[config] rope_scaling ${JSON.stringify(raw)} is not an object.`, { hint: 'Fix config.json.' });
  const type = s.rope_type ?? s.type;
  for (const key of ['factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings']) {
    if (s[key] !== undefined && !(typeof s[key] === 'number' && Number.isFinite(s[key]) && (s[key] as number) > 0)) {
      throw new ConfigError(`[config] rope_scaling.${key} must be a positive number, got ${JSON.stringify(s[key])}.`, { hint: 'Fix config.json.' });
    }
  }
  if (type === 'default') return null;
  if (type === 'linear' && typeof s.factor === 'number') return { type, factor: s.factor };
  if (type === 'llama3' && typeof s.factor === 'number') {
    return {
      type,
      factor: s.factor,
      lowFreqFactor: Number(s.low_freq_factor ?? 1),
      highFreqFactor: Number(s.high_freq_factor ?? 4),
      originalMaxPositions: Number(s.original_max_position_embeddings ?? 8192),
    };
  }
  throw new ConfigError(`[config] rope_scaling ${JSON.stringify(raw)} is not supported.`, {
    hint: "peft-ts supports rope_scaling types 'linear' and 'llama3'; results with others would be silently wrong.",
  });
}

/** Llama, Qwen2 and Mistral share this code; they differ in biases and defaults. */
export function parseLlamaConfig(raw: Record<string, unknown>, modelType: 'llama' | 'qwen2' | 'mistral'): LlamaConfig {
  const r = new ConfigReader(raw, `${modelType} config`);
  r.choice('hidden_act', ['silu'], 'silu');
  const hidden = r.size('hidden_size', MAX_SIZE.hidden);
  const heads = r.size('num_attention_heads', MAX_SIZE.heads);
  const kvHeads = r.size('num_key_value_heads', MAX_SIZE.heads, heads);
  if (heads % kvHeads !== 0) throw new ConfigError(`[config] num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}.`, { hint: 'Fix config.json.' });
  const headDim = r.size('head_dim', MAX_SIZE.hidden, Math.max(1, Math.floor(hidden / heads)));
  if (headDim % 2 !== 0) r.fail('head_dim', 'even (rotary embeddings rotate pairs)');
  const attentionBias = r.bool('attention_bias', false);
  return {
    modelType,
    vocabSize: r.size('vocab_size', MAX_SIZE.vocab),
    hiddenSize: hidden,
    numLayers: r.size('num_hidden_layers', MAX_SIZE.layers),
    maxPositions: r.size('max_position_embeddings', MAX_SIZE.positions, 2048),
    intermediateSize: r.size('intermediate_size', MAX_SIZE.intermediate),
    numHeads: heads,
    numKVHeads: kvHeads,
    headDim,
    rmsNormEps: r.positive('rms_norm_eps', 1e-6),
    ropeTheta: r.positive('rope_theta', modelType === 'qwen2' ? 1e6 : 10000),
    ropeScaling: parseRopeScaling(raw.rope_scaling),
    qkvBias: modelType === 'qwen2' || attentionBias,
    oBias: modelType === 'llama' && attentionBias,
    mlpBias: r.bool('mlp_bias', false),
    tieWordEmbeddings: r.bool('tie_word_embeddings', false),
    bosTokenId: r.optionalInt('bos_token_id'),
    eosTokenId: r.tokenIds('eos_token_id'),
    padTokenId: r.optionalInt('pad_token_id'),
    raw,
  };
}
