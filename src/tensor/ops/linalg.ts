import { ShapeError, formatShape } from '../../errors.js';
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { neg, requireFloat } from './elementwise.js';
import { matmul } from './matmul.js';
import { transpose } from './movement.js';

/** Inverts one n x n row-major matrix into `out` by Gauss-Jordan with partial pivoting, in float64. */
function invertInto(src: Float32Array, srcOffset: number, out: Float32Array, outOffset: number, n: number): boolean {
  const a = new Float64Array(n * 2 * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) a[i * 2 * n + j] = src[srcOffset + i * n + j];
    a[i * 2 * n + n + i] = 1;
  }
  const w = 2 * n;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r * w + col]) > Math.abs(a[pivot * w + col])) pivot = r;
    const p = a[pivot * w + col];
    if (p === 0 || !Number.isFinite(p)) return false;
    if (pivot !== col)
      for (let j = 0; j < w; j++) {
        const t = a[col * w + j];
        a[col * w + j] = a[pivot * w + j];
        a[pivot * w + j] = t;
      }
    for (let j = 0; j < w; j++) a[col * w + j] /= p;
    for (let r = 0; r < n; r++) {
      const factor = a[r * w + col];
      if (r === col || factor === 0) continue;
      for (let j = 0; j < w; j++) a[r * w + j] -= factor * a[col * w + j];
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[outOffset + i * n + j] = a[i * w + n + j];
  return true;
}

/**
 * The inverse of each square matrix in the last two dims ([..., n, n]). The matrices here are
 * small (orthogonal-finetuning blocks), so it runs in float64 on the host for every backend.
 * d(X^-1) = -X^-1 dX X^-1, so the input's gradient is -Y^T G Y^T with Y = X^-1.
 */
export function inverse(x: Tensor): Tensor {
  requireFloat('inverse', x);
  const n = x.shape[x.ndim - 1];
  if (x.ndim < 2 || x.shape[x.ndim - 2] !== n) throw new ShapeError(`[inverse] needs square matrices in the last two dimensions, got ${formatShape(x.shape)}.`, 'Pass a tensor of shape [..., n, n].');
  const data = x.contiguousData();
  const out = new Float32Array(data.length);
  for (let offset = 0; offset < data.length; offset += n * n) {
    if (!invertInto(data, offset, out, offset, n))
      throw new ShapeError(`[inverse] matrix ${offset / (n * n)} of ${formatShape(x.shape)} is singular.`, 'The matrix has no inverse; check its values for NaN or a zero pivot.');
  }
  const y = new Tensor(out, x.shape);
  return record(y, 'inverse', [x], (g) => {
    const yT = transpose(y, -1, -2);
    return [neg(matmul(matmul(yT, g), yT))];
  });
}
