import { AutogradError } from '../errors.js';
import { noGrad } from './autograd.js';
import { Generator } from './random.js';
import { Tensor } from './tensor.js';

export interface GradcheckOptions {
  /** Central-difference step. float32 math limits how small it can usefully be. */
  eps?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
}

export interface GradcheckResult {
  maxAbsError: number;
  checked: number;
}

/**
 * Compares autograd's gradient of L = sum(w * fn(inputs)) (w random, fixed) with central
 * finite differences for every element of every input that requires grad. Throws an
 * AutogradError naming the input and element on the first mismatch.
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  const eps = options.eps ?? 1e-2,
    atol = options.atol ?? 2e-3,
    rtol = options.rtol ?? 1e-2;
  const probe = noGrad(() => fn(...inputs));
  const gen = new Generator(options.seed ?? 1234);
  const w = Float64Array.from({ length: probe.size }, () => gen.uniform() * 2 - 1);
  const loss = (): number => {
    const y = noGrad(() => fn(...inputs)).contiguousData();
    let s = 0;
    for (let i = 0; i < y.length; i++) s += w[i] * y[i];
    return s;
  };

  for (const x of inputs) x.grad = null;
  const out = fn(...inputs);
  out.backward(new Tensor(Float32Array.from(w), out.shape));

  let maxAbsError = 0,
    checked = 0;
  inputs.forEach((x, which) => {
    if (!x.requiresGrad) return;
    if (!x.isContiguous()) throw new AutogradError('[gradcheck] inputs must be contiguous.', 'Pass fresh tensors.');
    const data = x.data as Float32Array;
    const analytic = x.grad ? x.grad.contiguousData() : new Float32Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const at = x.offset + i;
      const original = data[at];
      data[at] = original + eps;
      const plus = loss();
      data[at] = original - eps;
      const minus = loss();
      data[at] = original;
      const numeric = (plus - minus) / (2 * eps);
      const err = Math.abs(numeric - analytic[i]);
      maxAbsError = Math.max(maxAbsError, err);
      checked++;
      if (!(err <= atol + rtol * Math.abs(numeric))) {
        throw new AutogradError(
          `[gradcheck] input ${which} element ${i}: autograd ${analytic[i]} vs finite difference ${numeric} (error ${err.toExponential(2)}).`,
          "The op's backward disagrees with its forward.",
        );
      }
    }
  });
  return { maxAbsError, checked };
}
