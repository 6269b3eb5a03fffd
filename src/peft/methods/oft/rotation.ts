import { ConfigError } from '../../../errors.js';
import { type Generator, inverse, Tensor } from '../../../tensor/index.js';

/** The n x n identity. */
export function eye(n: number): Tensor {
  const d = new Float32Array(n * n);
  for (let i = 0; i < n; i++) d[i * n + i] = 1;
  return new Tensor(d, [n, n]);
}

/** The exact Cayley transform (I - Q)(I + Q)^-1 of each skew-symmetric Q in [..., n, n] (PEFT's linalg.solve(I + Q, I - Q, left=False)). */
export function cayley(Q: Tensor): Tensor {
  const I = eye(Q.shape[Q.ndim - 1]);
  return I.sub(Q).matmul(inverse(I.add(Q)));
}

/**
 * The dense block-diagonal matrix of `blocks` [n, b, b] (each repeated `repeat` times, for a
 * shared block): [n*repeat*b, n*repeat*b]. Built outside autograd, for merging.
 */
export function blockDiagonal(blocks: Tensor, repeat = 1): Tensor {
  const [n, b] = blocks.shape;
  const size = n * repeat * b;
  const src = blocks.contiguousData();
  const out = new Float32Array(size * size);
  for (let k = 0; k < n * repeat; k++) {
    const block = Math.floor(k / repeat) * b * b;
    for (let i = 0; i < b; i++) for (let j = 0; j < b; j++) out[(k * b + i) * size + k * b + j] = src[block + i * b + j];
  }
  return new Tensor(out, [size, size]);
}

/** x [..., n*b] with block k multiplied on the right by blocks[k] ([n, b, b], or [1, b, b] shared by all n): x_k @ R_k. */
export function rotateBlocks(x: Tensor, blocks: Tensor, n: number): Tensor {
  const b = blocks.shape[1];
  const rows = x.size / (n * b);
  return x.reshape([rows, n, b]).permute([1, 0, 2]).matmul(blocks).permute([1, 0, 2]).reshape(x.shape);
}

/** The divisor of `n` nearest to `value` (PEFT's adjust_oft_parameters), offered in the error hint. */
export function nearestDivisor(n: number, value: number): number {
  if (value >= n) return n;
  let higher = value;
  while (higher <= n && n % higher !== 0) higher++;
  let lower = value;
  while (lower > 1 && n % lower !== 0) lower--;
  return value - lower <= higher - value ? lower : higher;
}

/**
 * Blocks and block size for a layer of `inFeatures` inputs, from whichever of the two is non-zero.
 * PEFT's OFT warns and silently adjusts a value that does not divide in_features; peft-ts refuses
 * it, naming the field and PEFT's choice.
 */
export function blockLayout(given: { blocks: [string, number]; size: [string, number] }, inFeatures: number, path: string, label: string): { blocks: number; blockSize: number } {
  const bySize = given.blocks[1] === 0;
  const [field, value] = bySize ? given.size : given.blocks;
  if (inFeatures % value !== 0 || value > inFeatures) {
    throw new ConfigError(`[${label}] ${field} = ${value} does not divide in_features = ${inFeatures} of '${path}'.`, {
      hint: `Pick a divisor of ${inFeatures}, e.g. ${field} = ${nearestDivisor(inFeatures, value)} (the nearest divisor, which HF PEFT's OFT would silently switch to).`,
    });
  }
  return bySize ? { blocks: inFeatures / value, blockSize: value } : { blocks: value, blockSize: inFeatures / value };
}

/** PEFT's MultiplicativeDropoutLayer: int(p * n) of the n blocks [n, b, b], chosen at random, become the identity. */
export function dropBlocks(R: Tensor, p: number, generator: Generator): Tensor {
  const [n, b] = R.shape;
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(generator.uniform() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const mask = new Float32Array(n);
  for (let i = 0; i < Math.floor(p * n); i++) mask[order[i]] = 1;
  const m = new Tensor(mask, [n, 1, 1]);
  return R.mul(m.neg().add(1)).add(eye(b).mul(m));
}
