import { inverse, Tensor } from '../../../tensor/index.js';

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
