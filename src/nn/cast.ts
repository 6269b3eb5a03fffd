import type { Tensor } from '../tensor/index.js';
import { Conv1D, Embedding, Linear } from './layers.js';
import type { Module } from './module.js';

/** Storage for the frozen matrix weights of a model; everything else stays float32. */
export type WeightDType = 'float32' | 'bfloat16';

/**
 * Stores the weights of every Linear, Conv1D and Embedding that does not require grad as
 * `dtype` (bfloat16 halves their memory and runs the bf16 GEMM), keeping tied weights tied.
 * Trainable weights, norms and biases stay float32. Returns how many tensors changed.
 */
export function castFrozenWeights(model: Module, dtype: WeightDType): number {
  const converted = new Map<Tensor, Tensor>();
  for (const [, m] of model.namedModules()) {
    if (!(m instanceof Linear || m instanceof Conv1D || m instanceof Embedding)) continue;
    const w = m.weight;
    if (w.requiresGrad || w.dtype === dtype) continue;
    let cast = converted.get(w);
    if (!cast) {
      cast = dtype === 'bfloat16' ? w.bfloat16() : w.float();
      converted.set(w, cast);
    }
    m.weight = cast;
  }
  return converted.size;
}
