import { ArgumentError, formatShape, ShapeError } from '../errors.js';
import { prefixLength, type Embedding, type KVLayout, type KVPrefix } from '../nn/index.js';
import type { Tensor } from '../tensor/index.js';
import type { CausalLMInput, TokenInput } from './model.js';

/** The token embeddings [B, T, C] of an input: inputsEmbeds as given, or inputIds looked up in `table`. */
export function inputEmbeddings({ inputIds, inputsEmbeds }: TokenInput, table: Embedding): Tensor {
  if ((inputIds === undefined) === (inputsEmbeds === undefined)) {
    throw new ArgumentError('[model] pass exactly one of inputIds and inputsEmbeds.', 'Token ids are looked up in the embedding table; inputsEmbeds replace that lookup.');
  }
  if (!inputsEmbeds) return table.forward(inputIds!);
  if (inputsEmbeds.ndim !== 3 || inputsEmbeds.shape[2] !== table.dim) {
    throw new ShapeError(`[model] inputsEmbeds is ${formatShape(inputsEmbeds.shape)}; the model needs [batch, tokens, ${table.dim}].`, 'Pass one embedding of the hidden size per token.');
  }
  return inputsEmbeds;
}

/** Batch and length [B, T] of the input's tokens. */
export function tokenShape({ inputIds, inputsEmbeds }: TokenInput): [number, number] {
  const t = inputIds ?? inputsEmbeds;
  if (!t) throw new ArgumentError('[model] pass exactly one of inputIds and inputsEmbeds.', 'Token ids are looked up in the embedding table; inputsEmbeds replace that lookup.');
  return [t.shape[0], t.shape[1]];
}

/** What comes before an input's tokens: how many positions, and the prefix layers still have to attend to. */
export interface PastContext {
  past: number;
  prefix?: KVPrefix;
}

/**
 * Resolves the positions in front of the tokens: a key/value prefix goes into the cache when
 * there is one (first step), else each layer concatenates it. Checks the attention mask spans
 * prefix, cache and tokens.
 */
export function pastContext(input: CausalLMInput, layout: Omit<KVLayout, 'batch'>): PastContext {
  const [batch, t] = tokenShape(input);
  const { pastKeyValues: prefix, cache, attentionMask } = input;
  const prefixLen = prefix ? prefixLength(prefix, { ...layout, batch }) : 0;
  const past = (cache?.length ?? 0) + prefixLen;
  if (attentionMask && (attentionMask.shape[0] !== batch || attentionMask.shape[1] !== past + t)) {
    throw new ShapeError(
      `[model] the attention mask is ${formatShape(attentionMask.shape)}, but the model sees ${batch} rows of ${past} past (prefix and cache) + ${t} new positions.`,
      'Give the mask one column per prefix, cached and new position (ones for a prefix).',
    );
  }
  if (cache && prefix) cache.prefill(prefix);
  return cache ? { past } : { past, prefix };
}

/** Learned position tables (GPT-2, BERT) end at maxPositions: say so instead of failing in the lookup. */
export function checkPositions(positions: Tensor, maxPositions: number): void {
  const ids = positions.int32Data();
  let last = 0;
  for (let i = 0; i < ids.length; i++) if (ids[i] > last) last = ids[i];
  if (last >= maxPositions) {
    throw new ArgumentError(`[model] position ${last} is beyond the model's ${maxPositions} positions.`, 'Shorten the input: virtual tokens and key/value prefixes take positions too.');
  }
}
