import { bf16ToF32, f32ToBf16 } from '../../dtype.js';
import type { GemmArgs, GemmBf16Args } from '../backend.js';

/** Reference GEMM: float64 accumulation, one batch entry at a time. */
export function gemm(g: GemmArgs): void {
  const { a, b, c, m, n, k, lda, ldb, ldc, alpha, beta, transA, transB } = g;
  const row = new Float64Array(n);
  for (let batch = 0; batch < g.cOffsets.length; batch++) {
    const ao = g.aOffsets[batch],
      bo = g.bOffsets[batch],
      co = g.cOffsets[batch];
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let p = 0; p < k; p++) {
        const aip = transA ? a[ao + p * lda + i] : a[ao + i * lda + p];
        if (aip === 0) continue;
        if (transB) for (let j = 0; j < n; j++) row[j] += aip * b[bo + j * ldb + p];
        else {
          const base = bo + p * ldb;
          for (let j = 0; j < n; j++) row[j] += aip * b[base + j];
        }
      }
      const base = co + i * ldc;
      for (let j = 0; j < n; j++) c[base + j] = alpha * row[j] + (beta === 0 ? 0 : beta * c[base + j]);
    }
  }
}

/** Reference bfloat16-weight GEMM: a rounded to bfloat16, b widened, float64 accumulation. */
export function gemmBf16(g: GemmBf16Args): void {
  const { m, n, k, lda, ldb, ldc, alpha, beta, transB } = g;
  const a = new Float32Array(m * k);
  for (let i = 0; i < m; i++) a.set(g.a.subarray(g.aOffset + i * lda, g.aOffset + i * lda + k), i * k);
  bf16ToF32(f32ToBf16(a), a);
  const rows = transB ? n : k,
    cols = transB ? k : n;
  const b = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) bf16ToF32(g.b.subarray(g.bOffset + r * ldb, g.bOffset + r * ldb + cols), b.subarray(r * cols, (r + 1) * cols));
  gemm({ a, b, c: g.c, aOffsets: [0], bOffsets: [0], cOffsets: [g.cOffset], m, n, k, transA: false, transB, lda: k, ldb: cols, ldc, alpha, beta });
}
