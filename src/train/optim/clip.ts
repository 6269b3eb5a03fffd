import type { Tensor } from '../../tensor/index.js';

/** The global L2 norm of all gradients (accumulated in float64, so it overflows only for non-finite gradients). */
export function gradNorm(params: Tensor[]): number {
  let sq = 0;
  for (const p of params) {
    if (!p.grad) continue;
    const g = p.grad.contiguousData();
    for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
  }
  return Math.sqrt(sq);
}

/**
 * Scales all gradients so their global L2 norm is at most maxNorm (torch's clip_grad_norm_:
 * factor maxNorm / (norm + 1e-6), applied only when below 1). Returns the norm before clipping.
 */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  const norm = gradNorm(params);
  if (!Number.isFinite(norm)) return norm; // nothing to scale; the trainer stops on it
  const factor = maxNorm / (norm + 1e-6);
  if (factor < 1) {
    for (const p of params) {
      if (!p.grad) continue;
      const g = p.grad.contiguousData();
      for (let i = 0; i < g.length; i++) g[i] *= factor;
    }
  }
  return norm;
}
