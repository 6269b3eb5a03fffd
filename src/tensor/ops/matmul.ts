import { emptyF32 } from '../storage.js';
import { getBackend } from '../../backend/index.js';
import { DTypeError, formatShape, ShapeError } from '../../errors.js';
import { record } from '../autograd.js';
import { broadcastShapes, contiguousStrides, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { requireFloat } from './elementwise.js';
import { contiguous, reshape, transpose } from './movement.js';
import { sum, sumTo } from './reduce.js';

/** How GEMM reads a matrix operand: row-major, or transposed (a transpose view costs no copy). */
interface Operand {
  t: Tensor;
  trans: boolean;
  ld: number;
}

function asOperand(x: Tensor): Operand {
  const r = x.ndim - 2,
    c = x.ndim - 1;
  const rows = x.shape[r],
    cols = x.shape[c];
  if ((x.strides[c] === 1 || cols === 1) && x.strides[r] >= Math.max(cols, 1)) return { t: x, trans: false, ld: Math.max(x.strides[r], 1) };
  if ((x.strides[r] === 1 || rows === 1) && x.strides[c] >= Math.max(rows, 1)) return { t: x, trans: true, ld: Math.max(x.strides[c], 1) };
  const y = contiguous(x);
  return { t: y, trans: false, ld: Math.max(cols, 1) };
}

/** Offsets of each batch entry (broadcast over `batchShape`) in a tensor's buffer. */
function batchOffsets(x: Tensor, batchShape: readonly number[]): number[] {
  const lead = batchShape.length - (x.ndim - 2);
  const count = sizeOf(batchShape);
  const offsets = new Array<number>(count);
  const index = new Array<number>(batchShape.length).fill(0);
  for (let i = 0; i < count; i++) {
    let off = x.offset;
    for (let d = lead; d < batchShape.length; d++) if (x.shape[d - lead] !== 1) off += index[d] * x.strides[d - lead];
    offsets[i] = off;
    for (let d = batchShape.length - 1; d >= 0 && ++index[d] === batchShape[d]; d--) index[d] = 0;
  }
  return offsets;
}

/**
 * Batched matmul without a graph. A batched left operand times a shared right matrix is
 * folded into one GEMM with M = batch*M, the Linear-layer case that dominates training.
 */
function matmulRaw(a: Tensor, b: Tensor): Tensor {
  const m = a.shape[a.ndim - 2],
    k = a.shape[a.ndim - 1],
    n = b.shape[b.ndim - 1];
  const batchShape = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const outShape = [...batchShape, m, n];
  // An inner dimension of 0 is an empty sum: zeros, as in PyTorch (emptyF32 is uninitialised).
  if (k === 0) return new Tensor(new Float32Array(sizeOf(outShape)), outShape);
  const c = emptyF32(sizeOf(outShape));
  if (c.length === 0) return new Tensor(c, outShape);
  let A = asOperand(a);
  const B = asOperand(b);
  if (b.ndim === 2 && a.ndim > 2) {
    if (A.trans || !a.isContiguous()) A = { t: contiguous(a), trans: false, ld: k };
    getBackend().gemm({
      a: A.t.data as Float32Array,
      b: B.t.data as Float32Array,
      c,
      aOffsets: [A.t.offset],
      bOffsets: [B.t.offset],
      cOffsets: [0],
      m: sizeOf(a.shape.slice(0, -1)),
      n,
      k,
      transA: false,
      transB: B.trans,
      lda: k,
      ldb: B.ld,
      ldc: n,
      alpha: 1,
      beta: 0,
    });
    return new Tensor(c, outShape);
  }
  const cStrides = contiguousStrides(outShape);
  getBackend().gemm({
    a: A.t.data as Float32Array,
    b: B.t.data as Float32Array,
    c,
    aOffsets: batchOffsets(A.t, batchShape),
    bOffsets: batchOffsets(B.t, batchShape),
    cOffsets: Array.from({ length: sizeOf(batchShape) }, (_, i) => i * (batchShape.length ? cStrides[batchShape.length - 1] : 0)),
    m,
    n,
    k,
    transA: A.trans,
    transB: B.trans,
    lda: A.ld,
    ldb: B.ld,
    ldc: n,
    alpha: 1,
    beta: 0,
  });
  return new Tensor(c, outShape);
}

/**
 * a @ b over the last two dims, batch dims broadcast (NumPy semantics; 1-D operands are not
 * promoted: use at least 2-D). Transposed views go to GEMM as transpose flags, not copies.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  requireFloat('matmul', a, b);
  if (a.ndim < 2 || b.ndim < 2)
    throw new ShapeError(`[matmul] needs operands with at least 2 dimensions, got ${formatShape(a.shape)} and ${formatShape(b.shape)}.`, 'Unsqueeze vectors to [1, n] or [n, 1].');
  if (a.shape[a.ndim - 1] !== b.shape[b.ndim - 2]) {
    throw new ShapeError(
      `[matmul] shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} do not align (${a.shape[a.ndim - 1]} vs ${b.shape[b.ndim - 2]}).`,
      "The first operand's last dimension must equal the second's second-to-last; transpose an operand or check in_features.",
    );
  }
  return record(matmulRaw(a, b), 'matmul', [a, b], (g) => {
    let ga: Tensor | null = null,
      gb: Tensor | null = null;
    if (a.requiresGrad) ga = sumTo(matmulRaw(g, transpose(b, -1, -2)), a.shape);
    if (b.requiresGrad) {
      if (b.ndim === 2 && a.ndim > 2) {
        // dW = A^T dC with the batch folded into the contraction: one GEMM, no per-batch sum.
        const k = a.shape[a.ndim - 1],
          n = b.shape[1];
        gb = matmulRaw(transpose(reshape(a, [-1, k]), 0, 1), reshape(g, [-1, n]));
      } else {
        gb = sumTo(matmulRaw(transpose(a, -1, -2), g), b.shape);
      }
    }
    return [ga, gb];
  });
}

/** How the bf16 GEMM reads a 2-D bfloat16 tensor used as its B [k, n]: rows of n (transB false) or of k (true). */
function bf16Operand(op: string, b: Tensor): { transB: boolean; ld: number } {
  if (b.strides[1] === 1 || b.shape[1] === 1) return { transB: false, ld: Math.max(b.strides[0], b.shape[1], 1) };
  if (b.strides[0] === 1 || b.shape[0] === 1) return { transB: true, ld: Math.max(b.strides[1], b.shape[0], 1) };
  throw new ShapeError(
    `[${op}] a bfloat16 weight must be a plain or transposed 2-D view, got strides [${b.strides.join(', ')}].`,
    'Convert the weight to bfloat16 after slicing it, or keep it float32.',
  );
}

/**
 * c [rows, n] = x [..., k] @ b [k, n] + beta * c, for a contiguous x and a 2-D b in float32
 * (any layout GEMM reads) or bfloat16 (frozen weights: the bf16 GEMM).
 */
export function matmulInto(op: string, c: Float32Array, x: Tensor, b: Tensor, beta: 0 | 1, alpha = 1): void {
  const [k, n] = b.shape;
  const rows = x.size / Math.max(k, 1);
  if (b.dtype === 'bfloat16') {
    const { transB, ld } = bf16Operand(op, b);
    getBackend().gemmBf16({
      a: x.data as Float32Array,
      b: b.data as Uint16Array,
      c,
      aOffset: x.offset,
      bOffset: b.offset,
      cOffset: 0,
      m: rows,
      n,
      k,
      transB,
      lda: k,
      ldb: ld,
      ldc: n,
      alpha,
      beta,
    });
    return;
  }
  const B = asOperand(b);
  getBackend().gemm({
    a: x.data as Float32Array,
    b: B.t.data as Float32Array,
    c,
    aOffsets: [x.offset],
    bOffsets: [B.t.offset],
    cOffsets: [0],
    m: rows,
    n,
    k,
    transA: false,
    transB: B.trans,
    lda: k,
    ldb: B.ld,
    ldc: n,
    alpha,
    beta,
  });
}

/**
 * y = x @ weight^T + bias for weight [out, in] (any layout: GPT-2's Conv1D passes its [in, out]
 * weight as a transposed view). The bias is written into the output first and the GEMM adds
 * to it (beta = 1), saving a pass over the activations. A bfloat16 weight is frozen: it gets
 * no gradient, and x is rounded to bfloat16 in its products (float32 sums), forward and backward.
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  requireFloat('linear', x);
  const bf16 = weight.dtype === 'bfloat16';
  if (!bf16) requireFloat('linear', weight);
  if (bf16 && weight.requiresGrad)
    throw new DTypeError('[linear] a bfloat16 weight cannot require grad: peft-ts keeps trainable parameters in float32.', 'Train a float32 copy (tensor.float()), or freeze the weight.');
  const [outF, inF] = weight.shape;
  if (weight.ndim !== 2 || x.shape[x.ndim - 1] !== inF) {
    throw new ShapeError(`[linear] input ${formatShape(x.shape)} does not fit weight ${formatShape(weight.shape)} ([out, in]).`, `The input's last dimension must be in_features = ${inF}.`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outF)) throw new ShapeError(`[linear] bias ${formatShape(bias.shape)} does not fit ${outF} outputs.`, `Pass a bias of shape [${outF}].`);
  const rows = sizeOf(x.shape.slice(0, -1));
  const xc = contiguous(x);
  const c = emptyF32(rows * outF);
  if (bias) {
    const b = bias.contiguousData();
    for (let r = 0; r < rows; r++) c.set(b, r * outF);
  }
  matmulInto('linear', c, xc, transpose(weight, 0, 1), bias ? 1 : 0); // [in, out] as GEMM's B
  const out = new Tensor(c, [...x.shape.slice(0, -1), outF]);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(out, 'linear', inputs, (g) => {
    const g2 = reshape(g, [rows, outF]);
    let gx: Tensor | null = null;
    if (x.requiresGrad) {
      const gxData = emptyF32(rows * inF);
      matmulInto('linear', gxData, contiguous(g2), weight, 0);
      gx = new Tensor(gxData, x.shape);
    }
    const gw = weight.requiresGrad ? matmulRaw(transpose(g2, 0, 1), reshape(xc, [rows, inF])) : null;
    const gb = bias?.requiresGrad ? sum(g2, 0) : null;
    return bias ? [gx, gw, gb] : [gx, gw];
  });
}

/**
 * LoRA's layer in one output buffer: y = x W^T + bias + scale * (xd A^T) B^T, with xd the
 * adapter's (dropped-out) view of x, A [r, in], B [out, r]. The low-rank product is added into
 * the base output by the GEMM itself (beta = 1, alpha = scale), so no [tokens, out] temporary
 * exists in forward or backward; the only extra activation kept is xd A^T, [tokens, r].
 */
export function loraLinear(x: Tensor, weight: Tensor, bias: Tensor | null, xd: Tensor, A: Tensor, B: Tensor, scale: number): Tensor {
  requireFloat('loraLinear', x);
  const [outF, inF] = weight.shape,
    r = A.shape[0];
  if (A.ndim !== 2 || B.ndim !== 2 || A.shape[1] !== inF || B.shape[0] !== outF || B.shape[1] !== r || xd.shape.join() !== x.shape.join()) {
    throw new ShapeError(
      `[loraLinear] A ${formatShape(A.shape)} and B ${formatShape(B.shape)} do not fit weight ${formatShape(weight.shape)} and input ${formatShape(x.shape)}.`,
      'A is [r, in], B is [out, r], and the dropped-out input has the shape of the input.',
    );
  }
  const base = linear(x, weight, bias); // checks x, weight, bias; its output buffer is ours to add into
  const rows = sizeOf(x.shape.slice(0, -1));
  const xdc = contiguous(xd);
  const xa = emptyF32(rows * r);
  matmulInto('loraLinear', xa, xdc, transpose(A, 0, 1), 0);
  const xaT = new Tensor(xa, [rows, r]);
  matmulInto('loraLinear', base.data as Float32Array, xaT, transpose(B, 0, 1), 1, scale);
  const out = new Tensor(base.data, base.shape);
  // The base product's gradient flows through linear's node on `base` (its backward reads x and
  // W, never the buffer added into here); when xd is x, the engine adds both parts of dx.
  return record(out, 'loraLinear', [base, xd, A, B], (g) => {
    const g2 = reshape(g, [rows, outF]);
    // d(xd A^T) = scale * g B: [tokens, r], the one small temporary of the backward.
    const gxa = matmulRaw(g2, B).mul(scale);
    const gxd = xd.requiresGrad ? reshape(matmulRaw(gxa, A), xd.shape) : null;
    const gA = A.requiresGrad ? matmulRaw(transpose(gxa, 0, 1), reshape(xdc, [rows, inF])) : null;
    const gB = B.requiresGrad ? matmulRaw(transpose(g2, 0, 1), xaT).mul(scale) : null;
    return [g, gxd, gA, gB];
  });
}
