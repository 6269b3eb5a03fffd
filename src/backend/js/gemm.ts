import type { GemmArgs } from '../backend.js';

/** Reference GEMM: float64 accumulation, one batch entry at a time. */
export function gemm(g: GemmArgs): void {
  const { a, b, c, m, n, k, lda, ldb, ldc, alpha, beta, transA, transB } = g;
  const row = new Float64Array(n);
  for (let batch = 0; batch < g.cOffsets.length; batch++) {
    const ao = g.aOffsets[batch], bo = g.bOffsets[batch], co = g.cOffsets[batch];
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let p = 0; p < k; p++) {
        const aip = transA ? a[ao + p * lda + i] : a[ao + i * lda + p];
        if (aip === 0) continue;
        if (transB) for (let j = 0; j < n; j++) row[j] += aip * b[bo + j * ldb + p];
        else { const base = bo + p * ldb; for (let j = 0; j < n; j++) row[j] += aip * b[base + j]; }
      }
      const base = co + i * ldc;
      for (let j = 0; j < n; j++) c[base + j] = alpha * row[j] + (beta === 0 ? 0 : beta * c[base + j]);
    }
  }
}
