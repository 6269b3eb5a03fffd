import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ArgumentError } from '../../errors.js';
import { packageRoot } from '../../package.js';
import type { AttentionArgs, Backend, GemmArgs, Strided } from '../backend.js';

/** What native/addon.cc exports: typed arrays in, nothing out. */
interface Addon {
  setThreads(n: number): void;
  getThreads(): number;
  gemm(...args: unknown[]): void;
  [kernel: string]: (...args: any[]) => any;
}

/** Path of the compiled addon; it exists only when `npm install` could build it. */
export function addonPath(): string {
  return join(packageRoot(), 'build', 'Release', 'peft_native.node');
}

/** Packs shape and each operand's offset and strides as addon.cc's StridedMeta reads them. */
function stridedMeta(shape: readonly number[], operands: readonly { offset: number; strides: readonly number[] }[]): Float64Array {
  const meta = new Float64Array(1 + shape.length + operands.length * (shape.length + 1));
  meta[0] = shape.length;
  meta.set(shape, 1);
  let at = 1 + shape.length;
  for (const o of operands) {
    meta[at++] = o.offset;
    meta.set(o.strides, at);
    at += shape.length;
  }
  return meta;
}

function attentionMeta(a: AttentionArgs): Float64Array {
  const strided = (s: Strided | null) => (s ? [s.offset, ...s.strides] : [0, 0, 0, 0, 0]);
  return Float64Array.from([...strided(a.q), ...strided(a.k), ...strided(a.v), ...strided(a.mask), a.batch, a.heads, a.kvHeads, a.tq, a.tk, a.headDim, a.scale, a.causal ? 1 : 0]);
}

/** The addon with its argument checks (RangeError/TypeError thrown before any kernel runs) turned into ArgumentErrors. */
function guarded(raw: Addon): Addon {
  const out: Record<string, (...args: unknown[]) => unknown> = {};
  for (const [name, fn] of Object.entries(raw)) {
    out[name] = (...args: unknown[]) => {
      try {
        return fn(...args);
      } catch (cause) {
        throw new ArgumentError(`${(cause as Error).message}.`, 'An operand does not fit its buffer: a shape, stride or offset is wrong (a bug in the caller, not in the data).');
      }
    };
  }
  return out as Addon;
}

export function loadNativeBackend(threads?: number): Backend {
  // OpenBLAS's idle workers spin for 2^28 cycles (~0.1 s) after every GEMM before they sleep,
  // so they burn a core through each stretch of JS between GEMMs and take it from any other
  // process (and from our own pool). 2^4 cycles makes them sleep at once; waking them costs
  // microseconds per GEMM. Read once, when the addon loads OpenBLAS; a user's setting wins.
  process.env.OPENBLAS_THREAD_TIMEOUT ??= '4';
  const addon = guarded(createRequire(import.meta.url)(addonPath()) as Addon);
  if (threads !== undefined) addon.setThreads(threads);
  const f64 = (xs: readonly number[]) => Float64Array.from(xs);
  return {
    name: 'native',
    get threads() {
      return addon.getThreads();
    },
    gemm: (g: GemmArgs) => addon.gemm(g.a, g.b, g.c, f64(g.aOffsets), f64(g.bOffsets), f64(g.cOffsets), g.m, g.n, g.k, g.transA, g.transB, g.lda, g.ldb, g.ldc, g.alpha, g.beta),
    gemmBf16: (g) => addon.gemmBf16(g.a, g.b, g.c, g.aOffset, g.bOffset, g.cOffset, g.m, g.n, g.k, g.transB, g.lda, g.ldb, g.ldc, g.alpha, g.beta),
    bf16Kernel: (choice) => (addon.bf16Kernel(choice === undefined ? 2 : { auto: -1, widen: 0, avx512bf16: 1 }[choice]) === 1 ? 'avx512bf16' : 'widen'),
    unary: (op, out, x, p0, p1) => addon.unary(op, out, x, p0, p1),
    unaryBackward: (op, gx, x, y, gy, p0, p1) => addon.unaryBackward(op, gx, x, y, gy, p0, p1),
    binary: (op, out, a, b, shape) => addon.binary(op, out, a.data, b.data, stridedMeta(shape, [a, b])),
    where: (out, cond, a, b, shape) => addon.where(out, cond.data, a.data, b.data, stridedMeta(shape, [cond, a, b])),
    copy: (dst, src, shape) => addon.copy(dst.data, src.data, stridedMeta(shape, [dst, src])),
    reduce: (op, out, x, outer, size, inner) => addon.reduce(op === 'max', out, x, outer, size, inner),
    softmax: (out, x, rows, cols, log) => addon.softmax(out, x, rows, cols, log),
    softmaxBackward: (gx, y, gy, rows, cols, log) => addon.softmaxBackward(gx, y, gy, rows, cols, log),
    layerNorm: (out, mean, rstd, x, w, b, rows, cols, eps) => addon.layerNorm(out, mean, rstd, x, w, b, rows, cols, eps),
    layerNormBackward: (gx, gw, gb, x, w, mean, rstd, gy, rows, cols) => addon.layerNormBackward(gx, gw, gb, x, w, mean, rstd, gy, rows, cols),
    rmsNorm: (out, rstd, x, w, rows, cols, eps) => addon.rmsNorm(out, rstd, x, w, rows, cols, eps),
    rmsNormBackward: (gx, gw, x, w, rstd, gy, rows, cols) => addon.rmsNormBackward(gx, gw, x, w, rstd, gy, rows, cols),
    crossEntropy: (loss, lse, logits, targets, rows, cols, ignore) => addon.crossEntropy(loss, lse, logits, targets, rows, cols, ignore),
    crossEntropyBackward: (gx, logits, lse, targets, scale, rows, cols, ignore) => addon.crossEntropyBackward(gx, logits, lse, targets, scale, rows, cols, ignore),
    embedding: (out, weight, ids, dim) => addon.embedding(out, weight, ids, dim),
    embeddingBackward: (gw, gy, ids, dim) => addon.embeddingBackward(gw, gy, ids, dim),
    attention: (out, lse, a) => addon.attention(out, lse, a.q.data, a.k.data, a.v.data, a.mask?.data ?? null, attentionMeta(a)),
    attentionBackward: (gq, gk, gv, gout, out, lse, a) => addon.attentionBackward(gq, gk, gv, gout, out, lse, a.q.data, a.k.data, a.v.data, a.mask?.data ?? null, attentionMeta(a)),
    rope: (out, x, cos, sin, batch, heads, t, d, csStride, inverse) => addon.rope(out, x, cos, sin, batch, heads, t, d, csStride, inverse),
    dropout: (out, x, p, seed) => addon.dropout(out, x, p, seed),
  };
}
