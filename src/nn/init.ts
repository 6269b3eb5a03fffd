import type { Generator, Tensor } from '../tensor/index.js';

/** In-place initialisers over a parameter's storage, seeded so runs are reproducible. */
export function normal_(t: Tensor, std: number, generator: Generator, mean = 0): Tensor {
  const d = t.data as Float32Array;
  for (let i = 0; i < t.size; i++) d[t.offset + i] = mean + std * generator.normal();
  return t;
}

export function uniform_(t: Tensor, low: number, high: number, generator: Generator): Tensor {
  const d = t.data as Float32Array;
  for (let i = 0; i < t.size; i++) d[t.offset + i] = low + (high - low) * generator.uniform();
  return t;
}

export function fill_(t: Tensor, value: number): Tensor {
  (t.data as Float32Array).fill(value, t.offset, t.offset + t.size);
  return t;
}

/** PyTorch's kaiming_uniform_(w, a) for a [out, in] weight: bound = sqrt(6 / ((1 + a^2) * fan_in)). */
export function kaimingUniform_(t: Tensor, a: number, generator: Generator): Tensor {
  const fanIn = t.shape[1];
  const bound = Math.sqrt(6 / ((1 + a * a) * fanIn));
  return uniform_(t, -bound, bound, generator);
}
