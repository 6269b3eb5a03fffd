import { createBackend, setBackend, type Backend } from '../src/backend/index.js';
import { Generator, scaledDotProductAttention, Tensor } from '../src/tensor/index.js';
import { table, timeMs } from './util.js';

/** GPT-2-small GEMMs at M=512 tokens: forward x @ W^T, and the two backward forms. */
const GEMM_SHAPES: { name: string; m: number; n: number; k: number; transA: boolean; transB: boolean }[] = [];
for (const [inF, outF] of [[768, 768], [768, 3072], [3072, 768]]) {
  GEMM_SHAPES.push({ name: `fwd x@W^T ${inF}->${outF}`, m: 512, n: outF, k: inF, transA: false, transB: true });
  GEMM_SHAPES.push({ name: `bwd dY@W ${outF}->${inF}`, m: 512, n: inF, k: outF, transA: false, transB: false });
  GEMM_SHAPES.push({ name: `bwd dY^T@x dW[${outF},${inF}]`, m: outF, n: inF, k: 512, transA: true, transB: false });
}

function gemmRow(backend: Backend, s: (typeof GEMM_SHAPES)[number], iters: number): (string | number)[] {
  setBackend(backend);
  const gen = new Generator(1);
  const aShape = s.transA ? [s.k, s.m] : [s.m, s.k];
  const bShape = s.transB ? [s.n, s.k] : [s.k, s.n];
  const a = Tensor.randn(aShape, gen), b = Tensor.randn(bShape, gen);
  const c = new Float32Array(s.m * s.n);
  const raw = timeMs(() => backend.gemm({
    a: a.data as Float32Array, b: b.data as Float32Array, c, aOffsets: [0], bOffsets: [0], cOffsets: [0],
    m: s.m, n: s.n, k: s.k, transA: s.transA, transB: s.transB, lda: aShape[1], ldb: bShape[1], ldc: s.n, alpha: 1, beta: 0,
  }), { iters });
  const av = s.transA ? a.T : a, bv = s.transB ? b.T : b;
  const api = timeMs(() => av.matmul(bv), { iters });
  const gflop = (2 * s.m * s.n * s.k) / 1e9;
  return [backend.name, s.name, gflop / (raw / 1e3), gflop / (api / 1e3), `${((raw / api) * 100).toFixed(0)}%`];
}

export function benchGemm(backends: Backend[]): string {
  const rows: (string | number)[][] = [['backend', 'shape (M=512 tokens)', 'raw sgemm GFLOPS', 'Tensor.matmul GFLOPS', 'matmul/raw']];
  for (const backend of backends) {
    const shapes = backend.name === 'js' ? GEMM_SHAPES.slice(0, 3) : GEMM_SHAPES;
    for (const s of shapes) rows.push(gemmRow(backend, s, backend.name === 'js' ? 1 : 40));
  }
  return table(rows);
}

export function benchAttention(backends: Backend[]): string {
  const rows: (string | number)[][] = [['backend', 'attention B=4 H=12 T=128 D=64, causal', 'forward ms', 'forward+backward ms']];
  for (const backend of backends) {
    setBackend(backend);
    const gen = new Generator(2);
    const [q, k, v] = [0, 1, 2].map(() => { const t = Tensor.randn([4, 12, 128, 64], gen); t.requiresGrad = true; return t; });
    const iters = backend.name === 'js' ? 1 : 10;
    const fwd = timeMs(() => scaledDotProductAttention(q, k, v, { causal: true }), { iters });
    const g = Tensor.randn([4, 12, 128, 64], gen);
    const both = timeMs(() => scaledDotProductAttention(q, k, v, { causal: true }).backward(g), { iters });
    rows.push([backend.name, '', fwd, both]);
  }
  return table(rows);
}

export function kernelBackends(): Backend[] {
  const list: Backend[] = [];
  try { list.push(createBackend('native')); } catch (e) { console.log(`native backend unavailable: ${(e as Error).message}`); }
  list.push(createBackend('js'));
  return list;
}
