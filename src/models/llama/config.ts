import { ConfigError } from '../../errors.js';
import { ConfigReader } from '../config-fields.js';
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

export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

function parseRopeScaling(raw: unknown): RopeScaling | null {
  if (raw === undefined || raw === null) return null;
  const s = raw as Record<string, unknown>;
  const type = s.rope_type ?? s.type;
  if (type === 'default') return null;
  if (type === 'linear' && typeof s.factor === 'number') return { type, factor: s.factor };
  if (type === 'llama3' && typeof s.factor === 'number') {
    return {
      type, factor: s.factor,
      lowFreqFactor: Number(s.low_freq_factor ?? 1), highFreqFactor: Number(s.high_freq_factor ?? 4),
      originalMaxPositions: Number(s.original_max_position_embeddings ?? 8192),
    };
  }
  throw new ConfigError(`[config] rope_scaling ${JSON.stringify(raw)} is not supported.`, { hint: "peft-ts supports rope_scaling types 'linear' and 'llama3'; results with others would be silently wrong." });
}

/** Llama, Qwen2 and Mistral share this code; they differ in biases and defaults. */
export function parseLlamaConfig(raw: Record<string, unknown>, modelType: 'llama' | 'qwen2' | 'mistral'): LlamaConfig {
  const r = new ConfigReader(raw, `${modelType} config`);
  const act = r.string('hidden_act', 'silu');
  if (act !== 'silu') throw new ConfigError(`[config] hidden_act '${act}' is not supported for ${modelType}.`, { hint: "Only 'silu' (SwiGLU) is implemented." });
  const hidden = r.int('hidden_size');
  const heads = r.int('num_attention_heads');
  const kvHeads = r.int('num_key_value_heads', heads);
  if (heads % kvHeads !== 0) throw new ConfigError(`[config] num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}.`, { hint: 'Fix config.json.' });
  const attentionBias = r.bool('attention_bias', false);
  return {
    modelType,
    vocabSize: r.int('vocab_size'),
    hiddenSize: hidden,
    numLayers: r.int('num_hidden_layers'),
    maxPositions: r.int('max_position_embeddings', 2048),
    intermediateSize: r.int('intermediate_size'),
    numHeads: heads,
    numKVHeads: kvHeads,
    headDim: r.int('head_dim', Math.floor(hidden / heads)),
    rmsNormEps: r.number('rms_norm_eps', 1e-6),
    ropeTheta: r.number('rope_theta', modelType === 'qwen2' ? 1e6 : 10000),
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
