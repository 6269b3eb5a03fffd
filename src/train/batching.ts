import { ArgumentError } from '../errors.js';
import { shuffled } from '../data/index.js';
import { Tensor } from '../tensor/index.js';

/** A tokenized causal-LM example: labels are -100 where no loss is taken (the prompt, padding). */
export interface LMExample {
  inputIds: number[];
  labels: number[];
}

export const IGNORE = -100;

export interface Encoder {
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
}

/**
 * prompt + completion as one sequence with the loss on the completion only. Too long for the
 * context, the prompt loses tokens from its start (the end, next to the completion, is kept);
 * `truncated` says so, and callers count it. A completion that alone exceeds the context is an error.
 */
export function encodePromptCompletion(tokenizer: Encoder, prompt: string, completion: string, maxLength: number, eosTokenId?: number): LMExample & { truncated: boolean } {
  const p = tokenizer.encode(prompt, { addSpecialTokens: false });
  const c = [...tokenizer.encode(completion, { addSpecialTokens: false }), ...(eosTokenId === undefined ? [] : [eosTokenId])];
  if (c.length >= maxLength) throw new ArgumentError(`[data] a completion of ${c.length} tokens does not fit the ${maxLength}-token context.`, 'Shorten completions or raise --max-length.');
  const keep = Math.min(p.length, maxLength - c.length);
  const prompt_ = p.slice(p.length - keep);
  return { inputIds: [...prompt_, ...c], labels: [...prompt_.map(() => IGNORE), ...c], truncated: keep < p.length };
}

/** Cuts a token stream into blocks of `length` tokens for language-model pretraining (the tail is dropped). */
export function blocks(tokens: readonly number[], length: number): LMExample[] {
  const out: LMExample[] = [];
  for (let i = 0; i + length <= tokens.length; i += length) {
    const ids = tokens.slice(i, i + length);
    out.push({ inputIds: ids, labels: ids });
  }
  return out;
}

export interface Batch {
  inputIds: Tensor;
  /** Next-token targets [B, T]: labels shifted left, -100 at the end and on padding. */
  targets: Tensor;
  /** 0/1 [B, T]; present only when rows were padded. */
  attentionMask?: Tensor;
  /** Positions that carry a loss. */
  targetCount: number;
  tokens: number;
}

/** Right-pads examples to the batch's longest and shifts labels into next-token targets (no logits copy needed). */
export function collate(examples: readonly LMExample[], padId: number): Batch {
  const T = Math.max(...examples.map((e) => e.inputIds.length));
  const B = examples.length;
  const ids = new Int32Array(B * T).fill(padId),
    targets = new Int32Array(B * T).fill(IGNORE),
    mask = new Float32Array(B * T);
  let targetCount = 0,
    tokens = 0,
    padded = false;
  examples.forEach((e, b) => {
    const n = e.inputIds.length;
    if (n < T) padded = true;
    tokens += n;
    for (let t = 0; t < n; t++) {
      ids[b * T + t] = e.inputIds[t];
      mask[b * T + t] = 1;
      if (t + 1 < n && e.labels[t + 1] !== IGNORE) {
        targets[b * T + t] = e.labels[t + 1];
        targetCount++;
      }
    }
  });
  return {
    inputIds: new Tensor(ids, [B, T]),
    targets: new Tensor(targets, [B, T]),
    attentionMask: padded ? new Tensor(mask, [B, T]) : undefined,
    targetCount,
    tokens,
  };
}

/**
 * The epoch's batches as index lists: a seeded shuffle, and with groupByLength the shuffled
 * order is cut into mega-batches of 50 batches sorted by length, so batches pad little
 * (transformers' LengthGroupedSampler).
 */
export function epochBatches(lengths: readonly number[], batchSize: number, seed: number, epoch: number, groupByLength: boolean): number[][] {
  const order = shuffled(
    lengths.map((_, i) => i),
    seed * 1000003 + epoch,
  );
  if (groupByLength) {
    const mega = batchSize * 50;
    for (let start = 0; start < order.length; start += mega) {
      const part = order.slice(start, start + mega).sort((a, b) => lengths[b] - lengths[a]);
      order.splice(start, part.length, ...part);
    }
  }
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(order.slice(i, i + batchSize));
  return out;
}
