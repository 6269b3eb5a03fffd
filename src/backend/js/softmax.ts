import type { F32, I32 } from '../backend.js';

function rowLogSumExp(x: F32, base: number, cols: number): number {
  let max = -Infinity;
  for (let j = 0; j < cols; j++) if (x[base + j] > max) max = x[base + j];
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let j = 0; j < cols; j++) sum += Math.exp(x[base + j] - max);
  return max + Math.log(sum);
}

export function softmax(out: F32, x: F32, rows: number, cols: number, log: boolean): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const lse = rowLogSumExp(x, base, cols);
    for (let j = 0; j < cols; j++) out[base + j] = log ? x[base + j] - lse : Math.exp(x[base + j] - lse);
  }
}

export function softmaxBackward(gx: F32, y: F32, gy: F32, rows: number, cols: number, log: boolean): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let dot = 0;
    // softmax: gx = y * (gy - sum(gy*y)); log-softmax: gx = gy - exp(y) * sum(gy)
    for (let j = 0; j < cols; j++) dot += log ? gy[base + j] : gy[base + j] * y[base + j];
    for (let j = 0; j < cols; j++) gx[base + j] = log ? gy[base + j] - Math.exp(y[base + j]) * dot : y[base + j] * (gy[base + j] - dot);
  }
}

export function crossEntropy(loss: F32, lse: F32, logits: F32, targets: I32, rows: number, cols: number, ignoreIndex: number): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const t = targets[r];
    lse[r] = rowLogSumExp(logits, base, cols);
    loss[r] = t === ignoreIndex ? 0 : lse[r] - logits[base + t];
  }
}

export function crossEntropyBackward(gx: F32, logits: F32, lse: F32, targets: I32, rowScale: F32, rows: number, cols: number, ignoreIndex: number): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const t = targets[r];
    if (t === ignoreIndex) {
      gx.fill(0, base, base + cols);
      continue;
    }
    const s = rowScale[r];
    for (let j = 0; j < cols; j++) gx[base + j] = s * Math.exp(logits[base + j] - lse[r]);
    gx[base + t] -= s;
  }
}
