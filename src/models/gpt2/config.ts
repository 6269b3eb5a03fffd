import type { ModelConfig } from '../model.js';
import { ConfigReader, MAX_SIZE } from '../config-fields.js';

/** HF's names for the two GELUs GPT-2 checkpoints use: the tanh approximation and the exact (erf) one. */
const ACTIVATIONS = { gelu_new: 'tanh', gelu_pytorch_tanh: 'tanh', gelu_fast: 'tanh', gelu: 'none' } as const;

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
  const act = r.choice('activation_function', Object.keys(ACTIVATIONS) as (keyof typeof ACTIVATIONS)[], 'gelu_new');
  const hidden = r.size('n_embd', MAX_SIZE.hidden);
  const heads = r.size('n_head', MAX_SIZE.heads);
  if (hidden % heads !== 0) r.fail('n_head', `a divisor of n_embd (${hidden})`);
  return {
    modelType: 'gpt2',
    vocabSize: r.size('vocab_size', MAX_SIZE.vocab),
    hiddenSize: hidden,
    numLayers: r.size('n_layer', MAX_SIZE.layers),
    nHead: heads,
    maxPositions: r.size('n_positions', MAX_SIZE.positions, 1024),
    layerNormEpsilon: r.positive('layer_norm_epsilon', 1e-5),
    activation: ACTIVATIONS[act],
    embdPdrop: r.probability('embd_pdrop', 0.1),
    residPdrop: r.probability('resid_pdrop', 0.1),
    tieWordEmbeddings: r.bool('tie_word_embeddings', true),
    bosTokenId: r.optionalInt('bos_token_id'),
    eosTokenId: r.tokenIds('eos_token_id'),
    padTokenId: r.optionalInt('pad_token_id'),
    raw,
  };
}
