import type { Backend } from '../src/backend/index.js';
import { f32ToBf16 } from '../src/dtype.js';
import { Generator, scaledDotProductAttention, Tensor } from '../src/tensor/index.js';
import { timeMs } from './util.js';

/** GPT-2-small GEMMs at M=512 tokens: forward x @ W (Conv1D's [in, out]), dX = dY @ W^T, and the LM head. */
const GEMM_SHAPES = [
  { name: 'x@W 768->2304 (c_attn)', m: 512, n: 2304, k: 768, transB: false },
  { name: 'x@W 3072->768 (mlp c_proj)', m: 512, n: 768, k: 3072, transB: false },
  { name: 'dY@W^T 2304->768 (c_attn dX)', m: 512, n: 768, k: 2304, transB: true },
  { name: 'x@E^T 768->50257 (LM head)', m: 512, n: 50257, k: 768, transB: true },
  { name: 'decode x@W 768->2304, M=1', m: 1, n: 2304, k: 768, transB: false },
];

/** GFLOPS of sgemm on float32 weights and of the bf16 GEMM on the same weights in bfloat16. */
export function benchGemm(backend: Backend): { name: string; float32: number; bfloat16: number }[] {
  const gen = new Generator(1);
  return GEMM_SHAPES.map((s) => {
    const a = Tensor.randn([s.m, s.k], gen).contiguousData();
    const b = Tensor.randn([s.n * s.k], gen).contiguousData();
    const bh = f32ToBf16(b);
    const c = new Float32Array(s.m * s.n);
    const ldb = s.transB ? s.k : s.n;
    const iters = s.m * s.n * s.k > 1e10 ? 3 : 20;
    const f32 = timeMs(
      () => backend.gemm({ a, b, c, aOffsets: [0], bOffsets: [0], cOffsets: [0], m: s.m, n: s.n, k: s.k, transA: false, transB: s.transB, lda: s.k, ldb, ldc: s.n, alpha: 1, beta: 0 }),
      { warmup: 1, iters },
    );
    const bf16 = timeMs(() => backend.gemmBf16({ a, b: bh, c, aOffset: 0, bOffset: 0, cOffset: 0, m: s.m, n: s.n, k: s.k, transB: s.transB, lda: s.k, ldb, ldc: s.n, alpha: 1, beta: 0 }), {
      warmup: 1,
      iters,
    });
    const gflop = (2 * s.m * s.n * s.k) / 1e9;
    return { name: s.name, float32: gflop / (f32 / 1e3), bfloat16: gflop / (bf16 / 1e3) };
  });
}

/** Fused attention, B=4 H=12 T=128 D=64 causal: forward and forward+backward milliseconds. */
export function benchAttention(): { forwardMs: number; forwardBackwardMs: number } {
  const gen = new Generator(2);
  const [q, k, v] = [0, 1, 2].map(() => {
    const t = Tensor.randn([4, 12, 128, 64], gen);
    t.requiresGrad = true;
    return t;
  });
  const forwardMs = timeMs(() => scaledDotProductAttention(q, k, v, { causal: true }), { iters: 10 });
  const g = Tensor.randn([4, 12, 128, 64], gen);
  const forwardBackwardMs = timeMs(() => scaledDotProductAttention(q, k, v, { causal: true }).backward(g), { iters: 10 });
  return { forwardMs, forwardBackwardMs };
}
