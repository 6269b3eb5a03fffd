import { ArgumentError } from '../errors.js';
import { Generator, noGrad, Tensor } from '../tensor/index.js';
import { virtualTokensOf } from './input-tuner.js';
import type { CausalLM } from './model.js';

export interface SamplingOptions {
  /** 0 (the default) picks the most likely token: greedy decoding. */
  temperature?: number;
  /** Keep only the k most likely tokens (0: all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1: all). */
  topP?: number;
  seed?: number;
}

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens?: number;
  /** Generation of a row stops after one of these ids (defaults to the config's eos_token_id). */
  eosTokenId?: number | number[];
  /** Fills left padding and finished rows (defaults to pad, then eos, then 0). */
  padTokenId?: number;
  /** Reuse past keys and values (default) instead of recomputing the whole sequence each step. */
  useCache?: boolean;
  /** Called after each step with the new token of every row. */
  onStep?: (tokens: number[], step: number) => void;
}

/** Picks the next token from one row of logits. */
export function sampleToken(logits: Float32Array, options: SamplingOptions, generator: Generator): number {
  const temperature = options.temperature ?? 0;
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  let order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]);
  if (options.topK && options.topK > 0) order = order.slice(0, options.topK);
  const max = logits[order[0]];
  let probs = order.map((i) => Math.exp((logits[i] - max) / temperature));
  let total = probs.reduce((a, b) => a + b, 0);
  const topP = options.topP ?? 1;
  if (topP < 1) {
    let cumulative = 0,
      keep = 0;
    while (keep < probs.length && cumulative < topP * total) cumulative += probs[keep++];
    order = order.slice(0, keep);
    probs = probs.slice(0, keep);
    total = cumulative;
  }
  let u = generator.uniform() * total;
  for (let i = 0; i < order.length; i++) {
    u -= probs[i];
    if (u <= 0) return order[i];
  }
  return order[order.length - 1];
}

function validate(options: GenerateOptions): void {
  const { temperature = 0, topK = 0, topP = 1, maxNewTokens = 32 } = options;
  if (!(temperature >= 0)) throw new ArgumentError(`[generate] temperature ${temperature} must be >= 0.`, 'Use 0 for greedy decoding.');
  if (!(topP > 0 && topP <= 1)) throw new ArgumentError(`[generate] topP ${topP} must be in (0, 1].`, 'Use 1 to disable nucleus sampling.');
  if (!Number.isInteger(topK) || topK < 0) throw new ArgumentError(`[generate] topK ${topK} must be a non-negative integer.`, 'Use 0 to disable top-k.');
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new ArgumentError(`[generate] maxNewTokens ${maxNewTokens} must be a non-negative integer.`, 'Pass the number of tokens to generate.');
}

/**
 * Continues each prompt (token ids) and returns the new tokens of each row, the stop token
 * included when one was produced. Prompts of different lengths are left-padded and masked,
 * so every row decodes as it would alone.
 */
/**
 * generation_config.json as defaults for generate, as transformers reads it: greedy unless
 * do_sample, then its temperature, top_k and top_p (transformers' defaults 1.0, 50, 1.0).
 */
export function generationDefaults(raw: Record<string, unknown> = {}): GenerateOptions {
  const num = (key: string) => (typeof raw[key] === 'number' ? (raw[key] as number) : undefined);
  const eos = raw.eos_token_id;
  return {
    ...(raw.do_sample === true ? { temperature: num('temperature') ?? 1, topK: num('top_k') ?? 50, topP: num('top_p') ?? 1 } : {}),
    ...(num('max_new_tokens') !== undefined ? { maxNewTokens: num('max_new_tokens') } : {}),
    ...(typeof eos === 'number' || (Array.isArray(eos) && eos.every(Number.isInteger)) ? { eosTokenId: eos as number | number[] } : {}),
    ...(num('pad_token_id') !== undefined ? { padTokenId: num('pad_token_id') } : {}),
  };
}

export function generate(model: CausalLM, prompts: number[][], given: GenerateOptions = {}): number[][] {
  // The model's generation_config.json fills what the caller left out, as in transformers.
  const options: GenerateOptions = { ...generationDefaults(model.config.generation), ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
  validate(options);
  if (prompts.length === 0 || prompts.some((p) => p.length === 0))
    throw new ArgumentError('[generate] every prompt needs at least one token.', 'Encode a non-empty prompt (or start with the BOS token).');
  const maxNew = options.maxNewTokens ?? 32;
  const eos = new Set([options.eosTokenId ?? model.config.eosTokenId ?? []].flat());
  const inVocab = (id: number | undefined) => id !== undefined && id >= 0 && id < model.config.vocabSize;
  const pad = [options.padTokenId, model.config.padTokenId, ...eos].find(inVocab) ?? 0;
  const generator = new Generator(options.seed ?? 0);
  const batch = prompts.length;
  const promptLen = Math.max(...prompts.map((p) => p.length));
  const total = promptLen + maxNew;
  // Virtual tokens of a prompt-based adapter sit in front of every row and take positions too.
  const virtual = virtualTokensOf(model);
  if (virtual + total > model.config.maxPositions) {
    const context = virtual ? `the ${model.config.maxPositions - virtual} positions left after the adapter's ${virtual} virtual tokens` : `the model's ${model.config.maxPositions} positions`;
    throw new ArgumentError(`[generate] prompt (${promptLen}) + maxNewTokens (${maxNew}) exceeds ${context}.`, 'Shorten the prompt or generate fewer tokens.');
  }
  // Row-major [batch, total] ids and mask, left-padded; columns fill in as decoding proceeds.
  const ids = new Int32Array(batch * total).fill(pad);
  const mask = new Float32Array(batch * total);
  prompts.forEach((p, b) =>
    p.forEach((id, i) => {
      ids[b * total + promptLen - p.length + i] = id;
      mask[b * total + promptLen - p.length + i] = 1;
    }),
  );
  const outputs: number[][] = prompts.map(() => []);
  const done = new Array<boolean>(batch).fill(false);
  const useCache = options.useCache ?? true;
  const cache = useCache ? model.newCache(batch, virtual + total) : undefined;
  const columns = (from: number, to: number, data: Int32Array | Float32Array) => {
    const out = data instanceof Int32Array ? new Int32Array(batch * (to - from)) : new Float32Array(batch * (to - from));
    for (let b = 0; b < batch; b++) out.set(data.subarray(b * total + from, b * total + to), b * (to - from));
    return new Tensor(out, [batch, to - from]);
  };
  noGrad(() => {
    for (let step = 0, len = promptLen; step < maxNew && !done.every(Boolean); step++, len++) {
      const from = useCache && step > 0 ? len - 1 : 0;
      const logits = model.forward({ inputIds: columns(from, len, ids), attentionMask: columns(0, len, mask), cache, logitsToKeep: 1 });
      const t = logits.shape[1],
        vocab = logits.shape[2];
      const last = logits.narrow(1, t - 1, 1).contiguousData();
      const tokens = prompts.map((_, b) => {
        const token = done[b] ? pad : sampleToken(last.subarray(b * vocab, (b + 1) * vocab), options, generator);
        ids[b * total + len] = token;
        mask[b * total + len] = 1;
        if (!done[b]) {
          outputs[b].push(token);
          if (eos.has(token)) done[b] = true;
        }
        return token;
      });
      options.onStep?.(tokens, step);
    }
  });
  return outputs;
}
