import type { F32, I32 } from '../backend.js';

export function embedding(out: F32, weight: F32, ids: I32, dim: number): void {
  for (let i = 0; i < ids.length; i++) out.set(weight.subarray(ids[i] * dim, ids[i] * dim + dim), i * dim);
}

export function embeddingBackward(gw: F32, gy: F32, ids: I32, dim: number): void {
  for (let i = 0; i < ids.length; i++) {
    const row = ids[i] * dim,
      src = i * dim;
    for (let j = 0; j < dim; j++) gw[row + j] += gy[src + j];
  }
}

export function rope(out: F32, x: F32, cos: F32, sin: F32, batch: number, heads: number, t: number, d: number, csBatchStride: number, inverse: boolean): void {
  const half = d / 2;
  const sign = inverse ? -1 : 1;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let p = 0; p < t; p++) {
        const base = ((b * heads + h) * t + p) * d;
        const cs = b * csBatchStride + p * d;
        for (let j = 0; j < d; j++) {
          const rotated = j < half ? -x[base + j + half] : x[base + j - half];
          out[base + j] = x[base + j] * cos[cs + j] + sign * rotated * sin[cs + j];
        }
      }
    }
  }
}
