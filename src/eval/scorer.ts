import type { HFTokenizer } from '../io/index.js';
import { generate, virtualTokensOf, type CausalLM } from '../models/index.js';
import { logSoftmax, noGrad, Tensor } from '../tensor/index.js';

/** Log-likelihoods from a causal LM, batched: what every task type is scored with. */
export interface Scorer {
  /** log p(continuation | context) for each continuation, summed over its tokens; `progress` hears how many of its forward rows are done. */
  choiceLogLikelihoods(requests: { context: string; continuations: string[] }[], progress?: (done: number, total: number) => void): { logliks: number[]; tokens: number[] }[];
  /** Total negative log-likelihood (nats) of a text and the number of tokens predicted. */
  rollingNll(text: string): { nll: number; tokens: number };
  generateUntil(context: string, until: string[], maxTokens: number): string;
}

/**
 * One batched forward over right-padded rows; `pick(b, t, id)` then reads log p(id | row b up
 * to position t) for every t in `wanted[b]`. Rows are token ids; padding never influences earlier
 * positions (causal). Only the wanted positions go through the LM head and the softmax: a choice
 * scored from the last context token costs one [vocab] row, not [T, vocab].
 */
function forwardLogProbs(model: CausalLM, rows: number[][], padId: number, wanted: readonly (readonly number[])[]): (b: number, t: number, id: number) => number {
  const T = Math.max(...rows.map((r) => r.length));
  const ids = new Int32Array(rows.length * T).fill(padId);
  rows.forEach((r, b) => ids.set(r, b * T));
  const slot = new Int32Array(rows.length * T).fill(-1);
  let n = 0;
  wanted.forEach((ts, b) => {
    for (const t of ts) if (slot[b * T + t] < 0) slot[b * T + t] = n++;
  });
  const V = model.config.vocabSize;
  const logp = noGrad(() => {
    const hidden = model.hiddenStates({ inputIds: new Tensor(ids, [rows.length, T]) });
    const D = hidden.shape[2],
      h = hidden.contiguousData();
    const picked = new Float32Array(n * D);
    slot.forEach((k, bt) => {
      if (k >= 0) picked.set(h.subarray(bt * D, (bt + 1) * D), k * D);
    });
    const head = model.lm_head as unknown as { forward(x: Tensor): Tensor };
    return logSoftmax(head.forward(new Tensor(picked, [n, D])));
  }).contiguousData();
  return (b, t, id) => {
    const k = slot[b * T + t];
    if (k < 0) throw new Error(`scorer: position ${t} of row ${b} was not requested`);
    return logp[k * V + id];
  };
}

export function lmScorer(model: CausalLM, tokenizer: HFTokenizer, options: { batchSize?: number } = {}): Scorer {
  const batchSize = options.batchSize ?? 16;
  // A prompt-based adapter's virtual tokens take positions too; read per call, as the active adapter may change.
  const contextLength = () => model.config.maxPositions - virtualTokensOf(model);
  const padId = tokenizer.padTokenId ?? tokenizer.eosTokenId ?? 0;
  const bos = tokenizer.bosTokenId ?? tokenizer.eosTokenId ?? 0;
  const encode = (s: string) => tokenizer.encode(s, { addSpecialTokens: false });
  return {
    choiceLogLikelihoods(requests, progress) {
      // A row is a context plus one continuation, or the context alone when every continuation
      // is one token: then a single forward scores all of them. Contexts lose tokens from the start to fit.
      interface Row {
        ids: number[];
        start: number;
        req: number;
        choice: number | null;
      }
      const rows: Row[] = [];
      const out = requests.map((q) => ({ logliks: new Array<number>(q.continuations.length).fill(0), tokens: [] as number[] }));
      const conts = requests.map((q) => q.continuations.map(encode));
      requests.forEach((q, req) => {
        const ctx = encode(q.context);
        const longest = Math.max(...conts[req].map((c) => c.length));
        const keep = Math.max(1, Math.min(ctx.length, contextLength() - longest));
        const context = ctx.length ? ctx.slice(ctx.length - keep) : [bos];
        out[req].tokens = conts[req].map((c) => c.length);
        if (longest === 1) rows.push({ ids: context, start: context.length, req, choice: null });
        else conts[req].forEach((c, choice) => rows.push({ ids: [...context, ...c], start: context.length, req, choice }));
      });
      // Similar lengths together, so batches pad little.
      const order = rows.map((_, i) => i).sort((a, b) => rows[b].ids.length - rows[a].ids.length);
      for (let i = 0; i < order.length; i += batchSize) {
        const chunk = order.slice(i, i + batchSize).map((k) => rows[k]);
        const pick = forwardLogProbs(
          model,
          chunk.map((r) => r.ids),
          padId,
          chunk.map((r) => (r.choice === null ? [r.start - 1] : Array.from({ length: r.ids.length - r.start }, (_, i) => r.start - 1 + i))),
        );
        chunk.forEach((r, b) => {
          if (r.choice === null)
            conts[r.req].forEach((c, choice) => {
              out[r.req].logliks[choice] = pick(b, r.start - 1, c[0]);
            });
          else {
            let sum = 0;
            for (let t = r.start; t < r.ids.length; t++) sum += pick(b, t - 1, r.ids[t]);
            out[r.req].logliks[r.choice] = sum;
          }
        });
        progress?.(Math.min(i + batchSize, order.length), order.length);
      }
      return out;
    },

    rollingNll(text) {
      // Windows of the model's length; each starts with the previous window's last token
      // (the first with BOS), so every token is predicted exactly once.
      const ids = [bos, ...encode(text)];
      let nll = 0,
        tokens = 0;
      const maxLen = contextLength();
      for (let start = 0; start < ids.length - 1; start += maxLen - 1) {
        const window = ids.slice(start, start + maxLen);
        const pick = forwardLogProbs(model, [window], padId, [Array.from({ length: window.length - 1 }, (_, t) => t)]);
        for (let t = 1; t < window.length; t++) nll -= pick(0, t - 1, window[t]);
        tokens += window.length - 1;
      }
      return { nll, tokens };
    },

    generateUntil(context, until, maxTokens) {
      const ctx = encode(context);
      const prompt = ctx.slice(Math.max(0, ctx.length - (contextLength() - maxTokens)));
      const out = generate(model, [prompt.length ? prompt : [bos]], { maxNewTokens: maxTokens, eosTokenId: tokenizer.eosTokenId })[0];
      let text = tokenizer.decode(out);
      for (const stop of until) {
        const at = text.indexOf(stop);
        if (at >= 0) text = text.slice(0, at);
      }
      return text;
    },
  };
}
