import { Tensor } from '../tensor/index.js';

/**
 * Position ids [B, T] for T new tokens after `past` cached ones. With a padding mask the
 * count starts at each row's first real token (left padding), as HF's generate does.
 */
export function defaultPositions(batch: number, t: number, past: number, attentionMask?: Tensor): Tensor {
  const out = new Int32Array(batch * t);
  if (!attentionMask) {
    for (let b = 0; b < batch; b++) for (let i = 0; i < t; i++) out[b * t + i] = past + i;
    return new Tensor(out, [batch, t]);
  }
  const mask = attentionMask.dtype === 'int32' ? attentionMask.int32Data() : attentionMask.contiguousData();
  const s = attentionMask.shape[1];
  for (let b = 0; b < batch; b++) {
    let seen = 0;
    for (let j = 0; j < s; j++) {
      if (mask[b * s + j]) seen++;
      const i = j - (s - t);
      if (i >= 0) out[b * t + i] = Math.max(seen - 1, 0);
    }
  }
  return new Tensor(out, [batch, t]);
}

/** The hidden states of the last `keep` positions of [B, T, C] (all when keep is unset). */
export function lastPositions(hidden: Tensor, keep?: number): Tensor {
  const t = hidden.shape[1];
  return keep === undefined || keep >= t ? hidden : hidden.narrow(1, t - keep, keep);
}
