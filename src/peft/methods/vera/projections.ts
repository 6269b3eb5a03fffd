import { ConfigError } from '../../../errors.js';
import type { Module } from '../../../nn/index.js';
import { Tensor, TorchGenerator } from '../../../tensor/index.js';
import { isLinearLike } from '../../targets.js';
import { unwrapTarget } from '../../tuner-layer.js';
import type { VeraProjections } from './layer.js';

/**
 * PEFT's vera `_kaiming_init` on a fresh [rows, cols] float32 tensor: kaiming-uniform with gain
 * sqrt(2) (not nn.Linear's a = sqrt(5)), bound = sqrt(3) * (sqrt(2) / sqrt(fan_in)) in double as
 * Python computes it, then `uniform_(-bound, bound, generator)` in row-major order.
 */
function veraKaimingUniform(rows: number, cols: number, generator: TorchGenerator): Tensor {
  const bound = Math.sqrt(3) * (Math.SQRT2 / Math.sqrt(cols));
  return new Tensor(
    Float32Array.from({ length: rows * cols }, () => generator.uniformFloat32(-bound, bound)),
    [rows, cols],
  );
}

/**
 * PEFT's VeraModel._init_vera_A_vera_B: one generator seeded with projection_prng_key draws
 * vera_A [r, in_max] then vera_B [out_max, r], where (out_max, in_max) is the element-wise
 * largest (out, in) over the targeted layers. The same key always gives the same projections,
 * which is what lets PEFT skip saving them (save_projection=false).
 */
export function veraProjections(r: number, seed: number, targets: readonly [string, Module][]): VeraProjections {
  let outMax = 0,
    inMax = 0;
  for (const [, target] of targets) {
    const m = unwrapTarget(target);
    if (!isLinearLike(m)) continue;
    outMax = Math.max(outMax, m.outFeatures);
    inMax = Math.max(inMax, m.inFeatures);
  }
  if (outMax === 0) throw new ConfigError('[vera] no targeted module is a Linear or Conv1D layer.', { hint: 'VeRA adapts linear layers: target e.g. ["q_proj", "v_proj"].' });
  const generator = new TorchGenerator(seed);
  const A = veraKaimingUniform(r, inMax, generator);
  const B = veraKaimingUniform(outMax, r, generator);
  return { A, B };
}
