import type { KVCache, Module } from '../nn/index.js';
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
}

export interface CausalLMInput {
  /** int32 [B, T] */
  inputIds: Tensor;
  /** 0/1 [B, S] over cached + new positions: 0 marks (left) padding. */
  attentionMask?: Tensor;
  /** int32 [B, T]; defaults to the positions after the cache, counted over unpadded tokens. */
  positionIds?: Tensor;
  cache?: KVCache;
  /** Compute logits for the last N positions only (generation needs 1): skips most of the LM head. */
  logitsToKeep?: number;
}

export interface CausalLM extends Module {
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

export interface EncoderInput {
  inputIds: Tensor;
  attentionMask?: Tensor;
  tokenTypeIds?: Tensor;
}

export interface SequenceClassifier extends Module {
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
  /** Maps a checkpoint key to the model's name; null drops a key the model does not use (e.g. old buffers). */
  mapKey?(key: string, allKeys: readonly string[]): string | null;
  /** Parameters a checkpoint may lack (they keep their initial values). */
  optionalKeys?(config: C): string[];
}
