import type { Embedding, KVCache, KVLayout, KVPrefix, Module } from '../nn/index.js';
import type { Tensor } from '../tensor/index.js';

/** What every architecture's parsed config shares; `raw` keeps config.json whole, unknown fields included. */
export interface ModelConfig {
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  maxPositions: number;
  bosTokenId?: number;
  eosTokenId?: number | number[];
  padTokenId?: number;
  raw: Record<string, unknown>;
  /** generation_config.json of the model folder, when it has one: defaults for generate. */
  generation?: Record<string, unknown>;
}

/** The tokens of a forward: ids, or their embeddings (exactly one of the two). */
export interface TokenInput {
  /** int32 [B, T] */
  inputIds?: Tensor;
  /** [B, T, hidden]: used instead of looking up inputIds (prompt tuning puts its virtual tokens in front here). */
  inputsEmbeds?: Tensor;
  /**
   * Per-layer keys and values [B, Hkv, P, D] in front of the sequence (HF's past_key_values as
   * prefix tuning passes them): the tokens take positions P onward. With a cache, pass them on
   * the first step only: they are stored into it.
   */
  pastKeyValues?: KVPrefix;
}

export interface CausalLMInput extends TokenInput {
  /** 0/1 [B, S] over prefix + cached + new positions: 0 marks (left) padding. */
  attentionMask?: Tensor;
  /** int32 [B, T]; defaults to the positions after the prefix and cache, counted over unpadded tokens. */
  positionIds?: Tensor;
  cache?: KVCache;
  /** Compute logits for the last N positions only (generation needs 1): skips most of the LM head. */
  logitsToKeep?: number;
}

/** What input tuners (prompt and prefix tuning) ask of any model. */
export interface TokenModel extends Module {
  readonly config: ModelConfig;
  /** The token embedding table (HF's get_input_embeddings). */
  inputEmbeddings(): Embedding;
  /** Layers, kv heads and head size of attention's keys and values: what a KVPrefix must match. */
  keyValueLayout(): Omit<KVLayout, 'batch'>;
}

export interface CausalLM extends TokenModel {
  readonly task: 'causal-lm';
  readonly config: ModelConfig;
  /** Logits [B, T, vocab]. */
  forward(input: CausalLMInput): Tensor;
  /** The final hidden states [B, T, hidden] that the LM head turns into logits. */
  hiddenStates(input: CausalLMInput): Tensor;
  /** The LM head: a Linear [vocab, hidden], unless a PEFT method has wrapped it. */
  readonly lm_head: Module;
  newCache(batch: number, capacity: number): KVCache;
}

export interface EncoderInput extends TokenInput {
  /** 0/1 [B, P + T] over prefix and tokens. */
  attentionMask?: Tensor;
  tokenTypeIds?: Tensor;
}

export interface SequenceClassifier extends TokenModel {
  readonly task: 'sequence-classification';
  readonly config: ModelConfig & { numLabels: number };
  /** Logits [B, numLabels]. */
  forward(input: EncoderInput): Tensor;
}

export type PretrainedModel = CausalLM | SequenceClassifier;

/** How peft-ts reads one architecture: its config parser, its constructor, and its key map. */
export interface ArchSpec<C extends ModelConfig = ModelConfig> {
  modelType: string;
  parseConfig(raw: Record<string, unknown>): C;
  create(config: C): PretrainedModel;
  /** The ...ForSequenceClassification variant of a decoder (score head on the last token), when there is one. */
  createSequenceClassifier?(config: C, numLabels?: number): SequenceClassifier;
  /** Maps a checkpoint key to the model's name; null drops a key the model does not use (e.g. old buffers). */
  mapKey?(key: string, allKeys: readonly string[]): string | null;
  /**
   * How many parameter elements `create` allocates that a checkpoint must supply (tied and optional
   * ones excluded): compared with the checkpoint before anything is allocated.
   */
  parameterCount(config: C): number;
  /** Parameters a checkpoint may lack (they keep their initial values). */
  optionalKeys?(config: C): string[];
}
