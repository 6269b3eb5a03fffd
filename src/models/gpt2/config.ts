import type { ModelConfig } from '../model.js';
import { ConfigReader } from '../config-fields.js';

export interface GPT2Config extends ModelConfig {
  nHead: number;
  layerNormEpsilon: number;
  /** 'gelu_new' (GPT-2's tanh approximation) or 'gelu' (erf). */
  activation: 'tanh' | 'none';
  embdPdrop: number;
  residPdrop: number;
  tieWordEmbeddings: boolean;
}

export function parseGPT2Config(raw: Record<string, unknown>): GPT2Config {
  const r = new ConfigReader(raw, 'gpt2 config');
  const act = r.string('activation_function', 'gelu_new');
  return {
    modelType: 'gpt2',
    vocabSize: r.int('vocab_size'),
    hiddenSize: r.int('n_embd'),
    numLayers: r.int('n_layer'),
    nHead: r.int('n_head'),
    maxPositions: r.int('n_positions', 1024),
    layerNormEpsilon: r.number('layer_norm_epsilon', 1e-5),
    activation: act === 'gelu' ? 'none' : 'tanh',
    embdPdrop: r.number('embd_pdrop', 0.1),
    residPdrop: r.number('resid_pdrop', 0.1),
    tieWordEmbeddings: r.bool('tie_word_embeddings', true),
    bosTokenId: r.optionalInt('bos_token_id'),
    eosTokenId: r.tokenIds('eos_token_id'),
    padTokenId: r.optionalInt('pad_token_id'),
    raw,
  };
}
