import { Tensor } from '../tensor/index.js';

/** The most negative float32, as HF uses for masked positions (finite, so no NaN from -inf - -inf). */
export const MASKED = -3.4028234663852886e38;

/** A 0/1 padding mask [B, S] as the additive mask [B, 1, 1, S] attention adds to its scores. */
export function additiveMask(attentionMask: Tensor): Tensor {
  const m = attentionMask.dtype === 'int32' ? attentionMask.int32Data() : attentionMask.contiguousData();
  const out = new Float32Array(m.length);
  for (let i = 0; i < m.length; i++) out[i] = m[i] ? 0 : MASKED;
  const [b, s] = attentionMask.shape;
  return new Tensor(out, [b, 1, 1, s]);
}
