import { emptyF32 } from '../storage.js';
import { getBackend, type AttentionArgs, type Strided } from '../../backend/index.js';
import { formatShape, ShapeError } from '../../errors.js';
import { record } from '../autograd.js';
import { broadcastStrides } from '../shape.js';
import { Tensor } from '../tensor.js';
import { requireFloat } from './elementwise.js';
import { contiguous, transpose } from './movement.js';

/**
 * Reads a [B,H,T,D] operand in place when its last dimension is unit-stride. A single row
 * (T = 1) may carry any stride on T, but GEMM reads it as a leading dimension, which must be
 * at least D (else OpenBLAS rejects the call and leaves the output unwritten): use D there.
 */
function strided(x: Tensor): Strided {
  const t = x.strides[3] === 1 || x.shape[3] === 1 ? x : contiguous(x);
  const strides = t.shape[2] === 1 ? [t.strides[0], t.strides[1], Math.max(t.strides[2], t.shape[3]), t.strides[3]] : t.strides;
  return { data: t.data as Float32Array, offset: t.offset, strides };
}

export interface AttentionOptions {
  /** Each query sees only keys at or before its position (the last T of S when T < S). */
  causal?: boolean;
  /** Additive mask broadcastable to [B, H, T, S] (0 keeps, a large negative number drops). */
  mask?: Tensor | null;
  /** Defaults to 1/sqrt(D). */
  scale?: number;
}

/**
 * softmax(q k^T * scale + mask) v, fused: q [B,H,T,D], k and v [B,Hkv,S,D] with H a multiple
 * of Hkv (grouped-query attention). The probabilities are never stored; backward recomputes
 * them from the saved log-sum-exp. The result's memory is laid out [B,T,H,D], so
 * `.transpose(1, 2).reshape([B, T, H*D])` is free.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  requireFloat('attention', q, k, v);
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4)
    throw new ShapeError(`[attention] q, k, v must be [B, H, T, D]; got ${formatShape(q.shape)}, ${formatShape(k.shape)}, ${formatShape(v.shape)}.`, 'Reshape to (batch, heads, time, head_dim).');
  const [batch, heads, tq, headDim] = q.shape;
  const [kb, kvHeads, tk, kd] = k.shape;
  if (kb !== batch || kd !== headDim || v.shape.some((d, i) => d !== k.shape[i]) || heads % kvHeads !== 0) {
    throw new ShapeError(
      `[attention] shapes q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)} do not fit.`,
      "k and v must match, share q's batch and head_dim, and q's heads must be a multiple of the kv heads.",
    );
  }
  let mask: Strided | null = null;
  if (options.mask) {
    const m = options.mask;
    requireFloat('attention', m);
    const full = [batch, heads, tq, tk];
    const lead = 4 - m.ndim;
    if (m.ndim > 4 || m.shape.some((d, i) => d !== 1 && d !== full[i + lead]))
      throw new ShapeError(`[attention] mask ${formatShape(m.shape)} does not broadcast to ${formatShape(full)}.`, 'Pass a mask of shape [B or 1, H or 1, T, S].');
    mask = { data: m.data as Float32Array, offset: m.offset, strides: broadcastStrides(m.shape, m.strides, full) };
  }
  const args: AttentionArgs = {
    q: strided(q),
    k: strided(k),
    v: strided(v),
    mask,
    batch,
    heads,
    kvHeads,
    tq,
    tk,
    headDim,
    scale: options.scale ?? 1 / Math.sqrt(headDim),
    causal: options.causal ?? false,
  };
  const out = emptyF32(batch * tq * heads * headDim);
  const lse = emptyF32(batch * heads * tq);
  getBackend().attention(out, lse, args);
  const result = new Tensor(out, q.shape, { strides: [tq * heads * headDim, headDim, heads * headDim, 1] });
  return record(result, 'attention', [q, k, v], (g) => {
    const gq = emptyF32(q.size),
      gk = emptyF32(k.size),
      gv = emptyF32(v.size);
    const gout = contiguous(transpose(g, 1, 2)).contiguousData();
    getBackend().attentionBackward(gq, gk, gv, gout, out, lse, args);
    return [new Tensor(gq, q.shape), new Tensor(gk, k.shape), new Tensor(gv, v.shape)];
  });
}

/**
 * Rotary position embedding, rotate-half convention (HF Llama): x*cos + rotate_half(x)*sin
 * for x [B,H,T,D] and tables cos, sin of [T,D] or [B,T,D] whose two halves are equal (HF
 * builds them as cat(freqs, freqs)).
 */
export function rope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  requireFloat('rope', x, cos, sin);
  if (x.ndim !== 4) throw new ShapeError(`[rope] x must be [B, H, T, D], got ${formatShape(x.shape)}.`, 'Reshape to (batch, heads, time, head_dim).');
  const [batch, heads, t, d] = x.shape;
  const batched = cos.ndim === 3;
  const expected = batched ? [batch, t, d] : [t, d];
  if (d % 2 !== 0 || cos.shape.length !== expected.length || cos.shape.some((s, i) => s !== expected[i]) || sin.shape.some((s, i) => s !== cos.shape[i])) {
    throw new ShapeError(
      `[rope] tables ${formatShape(cos.shape)} / ${formatShape(sin.shape)} do not fit x ${formatShape(x.shape)}.`,
      `Pass cos and sin of shape [${t}, ${d}] or [${batch}, ${t}, ${d}] with an even head_dim.`,
    );
  }
  const xd = x.contiguousData(),
    cd = cos.contiguousData(),
    sd = sin.contiguousData();
  const stride = batched ? t * d : 0;
  const out = emptyF32(xd.length);
  getBackend().rope(out, xd, cd, sd, batch, heads, t, d, stride, false);
  return record(new Tensor(out, x.shape), 'rope', [x], (g) => {
    const gx = emptyF32(xd.length);
    getBackend().rope(gx, g.contiguousData(), cd, sd, batch, heads, t, d, stride, true);
    return [new Tensor(gx, x.shape)];
  });
}
