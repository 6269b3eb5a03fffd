/**
 * The kernel interface. A backend sees typed arrays, sizes and strides; it knows nothing of
 * Tensor or gradients (autograd lives in tensor/). Outputs come first after the op code,
 * llm.c style, and every output buffer is written, never read, unless a kernel says it
 * accumulates. `js` is the reference; `native` must agree with it within the tolerances
 * stated in backend.cases.ts.
 */
export type F32 = Float32Array;
export type I32 = Int32Array;
/** bfloat16 values as their 16 bits (the high half of a float32). */
export type BF16 = Uint16Array;

/** Unary elementwise ops. `p0`, `p1` are the op's scalar parameters (pow's exponent, clamp's bounds). */
export const UnaryOp = {
  neg: 0,
  exp: 1,
  log: 2,
  sqrt: 3,
  rsqrt: 4,
  abs: 5,
  tanh: 6,
  sigmoid: 7,
  relu: 8,
  gelu: 9,
  geluTanh: 10,
  silu: 11,
  pow: 12,
  clamp: 13,
} as const;
export type UnaryOpCode = (typeof UnaryOp)[keyof typeof UnaryOp];

export const BinaryOp = { add: 0, sub: 1, mul: 2, div: 3, eq: 4 } as const;
export type BinaryOpCode = (typeof BinaryOp)[keyof typeof BinaryOp];

/** A strided read of a buffer: element (i0, i1, ...) sits at offset + sum(ik * strides[k]). */
export interface Strided {
  data: F32;
  offset: number;
  strides: readonly number[];
}

/** Sizes, layout and scaling every GEMM takes: c [m, n] = alpha * a [m, k] @ op(b) + beta * c. */
export interface GemmShape {
  m: number;
  n: number;
  k: number;
  transB: boolean;
  lda: number;
  ldb: number;
  ldc: number;
  alpha: number;
  beta: number;
}

/**
 * C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b] for every batch entry b, row-major.
 * op(X) is X or its transpose; offsets say where each batch entry's matrix starts, so
 * broadcasting is an offset repeated and a shared output offset with beta=1 accumulates.
 */
export interface GemmArgs extends GemmShape {
  a: F32;
  b: F32;
  c: F32;
  aOffsets: readonly number[];
  bOffsets: readonly number[];
  cOffsets: readonly number[];
  transA: boolean;
}

/**
 * c = alpha * a @ op(b) + beta * c with a float32 [m, k] and b bfloat16: stored [n, k] when
 * transB (nn.Linear's weight), else [k, n] (GPT-2's Conv1D, or a Linear weight in backward).
 * a is rounded to bfloat16 first and products accumulate in float32 (PyTorch's bf16 autocast).
 */
export interface GemmBf16Args extends GemmShape {
  a: F32;
  b: BF16;
  c: F32;
  aOffset: number;
  bOffset: number;
  cOffset: number;
}

/** Scaled-dot-product attention over q [B,H,T,D], k and v [B,Hkv,S,D] (H a multiple of Hkv). */
export interface AttentionArgs {
  q: Strided;
  k: Strided;
  v: Strided;
  /** Additive mask, logically [B,H,T,S]; strides of 0 broadcast. */
  mask: Strided | null;
  batch: number;
  heads: number;
  kvHeads: number;
  tq: number;
  tk: number;
  headDim: number;
  scale: number;
  /** Query t sees keys s <= t + (tk - tq): the queries are the last tq positions. */
  causal: boolean;
}

export interface Backend {
  readonly name: 'js' | 'native';
  /** Threads the kernels use (1 for js). */
  readonly threads: number;

  gemm(args: GemmArgs): void;
  gemmBf16(args: GemmBf16Args): void;
  /**
   * Native only: which bfloat16 GEMM runs ('avx512bf16' when the CPU has it, else 'widen':
   * blocks of b widened to float32 for sgemm). Passing a choice forces it (tests cover both).
   */
  bf16Kernel?(choice?: 'auto' | 'widen' | 'avx512bf16'): 'widen' | 'avx512bf16';

  unary(op: UnaryOpCode, out: F32, x: F32, p0: number, p1: number): void;
  /** gx = gy * f'(x); y = f(x) is given for ops whose derivative reads it. */
  unaryBackward(op: UnaryOpCode, gx: F32, x: F32, y: F32, gy: F32, p0: number, p1: number): void;
  /** out (contiguous, `shape`) = a op b, both read through strides (0 broadcasts). */
  binary(op: BinaryOpCode, out: F32, a: Strided, b: Strided, shape: readonly number[]): void;
  /** out = cond != 0 ? a : b, all read through strides. */
  where(out: F32, cond: Strided, a: Strided, b: Strided, shape: readonly number[]): void;
  /** Strided copy: dst[dstOffset + idx.dstStrides] = src[srcOffset + idx.srcStrides]. */
  copy(dst: Strided, src: Strided, shape: readonly number[]): void;
  /** out[o, i] = reduce_r x[o, r, i] over a contiguous [outer, size, inner] view. */
  reduce(op: 'sum' | 'max', out: F32, x: F32, outer: number, size: number, inner: number): void;

  /** Row-wise softmax (or log-softmax) of a contiguous [rows, cols]. */
  softmax(out: F32, x: F32, rows: number, cols: number, log: boolean): void;
  softmaxBackward(gx: F32, y: F32, gy: F32, rows: number, cols: number, log: boolean): void;

  /** LayerNorm of [rows, cols]; saves per-row mean and 1/std for backward. weight/bias may be null. */
  layerNorm(out: F32, mean: F32, rstd: F32, x: F32, weight: F32 | null, bias: F32 | null, rows: number, cols: number, eps: number): void;
  /** Writes gx; gw and gb (when given) are overwritten with the sums over rows. */
  layerNormBackward(gx: F32, gw: F32 | null, gb: F32 | null, x: F32, weight: F32 | null, mean: F32, rstd: F32, gy: F32, rows: number, cols: number): void;
  rmsNorm(out: F32, rstd: F32, x: F32, weight: F32 | null, rows: number, cols: number, eps: number): void;
  rmsNormBackward(gx: F32, gw: F32 | null, x: F32, weight: F32 | null, rstd: F32, gy: F32, rows: number, cols: number): void;

  /** Per-row -log softmax(logits)[target] and logsumexp; rows whose target is ignoreIndex get loss 0. */
  crossEntropy(loss: F32, lse: F32, logits: F32, targets: I32, rows: number, cols: number, ignoreIndex: number): void;
  /** gx[r] = rowScale[r] * (softmax(logits[r]) - onehot(target[r])); ignored rows get 0. */
  crossEntropyBackward(gx: F32, logits: F32, lse: F32, targets: I32, rowScale: F32, rows: number, cols: number, ignoreIndex: number): void;

  /** out[i] = weight[ids[i]] for rows of width dim. */
  embedding(out: F32, weight: F32, ids: I32, dim: number): void;
  /** gw[ids[i]] += gy[i]; gw accumulates (the caller zeroes it). */
  embeddingBackward(gw: F32, gy: F32, ids: I32, dim: number): void;

  /** out [B,T,H,D] contiguous (so the usual transpose back to [B,T,H*D] is free); lse [B,H,T]. */
  attention(out: F32, lse: F32, args: AttentionArgs): void;
  /** gq [B,H,T,D], gk and gv [B,Hkv,S,D], all contiguous and overwritten. gout and out are [B,T,H,D]. */
  attentionBackward(gq: F32, gk: F32, gv: F32, gout: F32, out: F32, lse: F32, args: AttentionArgs): void;

  /**
   * Rotary embedding, rotate-half convention: out = x*cos + rotate_half(x)*sin over x [B,H,T,D]
   * contiguous, cos/sin [B or 1, T, D] (csBatchStride 0 shares one table). inverse uses -sin (the backward).
   */
  rope(out: F32, x: F32, cos: F32, sin: F32, batch: number, heads: number, t: number, d: number, csBatchStride: number, inverse: boolean): void;

  /** out = x * keep / (1-p), keep drawn from a counter-based hash of (seed, index): identical on every backend. */
  dropout(out: F32, x: F32, p: number, seed: number): void;
}
