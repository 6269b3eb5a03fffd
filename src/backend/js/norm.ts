import type { F32 } from '../backend.js';

export function layerNorm(out: F32, mean: F32, rstd: F32, x: F32, weight: F32 | null, bias: F32 | null, rows: number, cols: number, eps: number): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let m = 0;
    for (let j = 0; j < cols; j++) m += x[base + j];
    m /= cols;
    let v = 0;
    for (let j = 0; j < cols; j++) {
      const d = x[base + j] - m;
      v += d * d;
    }
    const s = 1 / Math.sqrt(v / cols + eps);
    mean[r] = m;
    rstd[r] = s;
    for (let j = 0; j < cols; j++) {
      const xhat = (x[base + j] - m) * s;
      out[base + j] = xhat * (weight ? weight[j] : 1) + (bias ? bias[j] : 0);
    }
  }
}

export function layerNormBackward(gx: F32, gw: F32 | null, gb: F32 | null, x: F32, weight: F32 | null, mean: F32, rstd: F32, gy: F32, rows: number, cols: number): void {
  const gwAcc = new Float64Array(cols),
    gbAcc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols,
      m = mean[r],
      s = rstd[r];
    let sumG = 0,
      sumGX = 0;
    for (let j = 0; j < cols; j++) {
      const xhat = (x[base + j] - m) * s;
      const g = gy[base + j] * (weight ? weight[j] : 1);
      sumG += g;
      sumGX += g * xhat;
      gwAcc[j] += gy[base + j] * xhat;
      gbAcc[j] += gy[base + j];
    }
    for (let j = 0; j < cols; j++) {
      const xhat = (x[base + j] - m) * s;
      const g = gy[base + j] * (weight ? weight[j] : 1);
      gx[base + j] = s * (g - sumG / cols - (xhat * sumGX) / cols);
    }
  }
  if (gw) for (let j = 0; j < cols; j++) gw[j] = gwAcc[j];
  if (gb) for (let j = 0; j < cols; j++) gb[j] = gbAcc[j];
}

export function rmsNorm(out: F32, rstd: F32, x: F32, weight: F32 | null, rows: number, cols: number, eps: number): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let ms = 0;
    for (let j = 0; j < cols; j++) ms += x[base + j] * x[base + j];
    const s = 1 / Math.sqrt(ms / cols + eps);
    rstd[r] = s;
    for (let j = 0; j < cols; j++) out[base + j] = x[base + j] * s * (weight ? weight[j] : 1);
  }
}

export function rmsNormBackward(gx: F32, gw: F32 | null, x: F32, weight: F32 | null, rstd: F32, gy: F32, rows: number, cols: number): void {
  const gwAcc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols,
      s = rstd[r];
    let dot = 0;
    for (let j = 0; j < cols; j++) {
      const g = gy[base + j] * (weight ? weight[j] : 1);
      dot += g * x[base + j];
      gwAcc[j] += gy[base + j] * x[base + j] * s;
    }
    for (let j = 0; j < cols; j++) {
      const g = gy[base + j] * (weight ? weight[j] : 1);
      gx[base + j] = s * g - (x[base + j] * s * s * s * dot) / cols;
    }
  }
  if (gw) for (let j = 0; j < cols; j++) gw[j] = gwAcc[j];
}
