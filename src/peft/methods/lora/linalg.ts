/**
 * Small dense linear algebra in float64 for adapter initialisation and merging: the matrices
 * are either tiny (rank x rank) or touched a few times (power iteration over a weight).
 * Row-major arrays throughout.
 */
import { Generator } from '../../../tensor/index.js';

/** Eigen-decomposition of a symmetric n x n matrix by cyclic Jacobi rotations; eigenvalues sorted descending. */
export function symmetricEigen(input: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(input);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p],
            akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k],
            aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p],
            vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y * n + y] - a[x * n + x]);
  const values = Float64Array.from(order, (i) => a[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src];
  });
  return { values, vectors };
}

/** C [m, n] = A [m, k] @ B [k, n], with either operand optionally transposed as stored. */
export function matmul64(a: Float64Array, b: Float64Array, m: number, k: number, n: number, transA = false, transB = false): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const aip = transA ? a[p * m + i] : a[i * k + p];
      if (aip === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] += aip * (transB ? b[j * k + p] : b[p * n + j]);
    }
  }
  return c;
}

export interface Triplets {
  u: Float64Array;
  sigma: Float64Array;
  v: Float64Array;
}

/** Top-k singular triplets of a small m x n matrix from the eigen-decomposition of its m x m Gram matrix. u [m, k], v [n, k]. */
export function svdSmall(m: Float64Array, rows: number, cols: number, k: number): Triplets {
  const gram = matmul64(m, m, rows, cols, rows, false, true);
  const { values, vectors } = symmetricEigen(gram, rows);
  const u = new Float64Array(rows * k),
    sigma = new Float64Array(k),
    v = new Float64Array(cols * k);
  for (let j = 0; j < k && j < rows; j++) {
    sigma[j] = Math.sqrt(Math.max(values[j], 0));
    for (let i = 0; i < rows; i++) u[i * k + j] = vectors[i * rows + j];
    if (sigma[j] === 0) continue;
    for (let c = 0; c < cols; c++) {
      let dot = 0;
      for (let i = 0; i < rows; i++) dot += m[i * cols + c] * u[i * k + j];
      v[c * k + j] = dot / sigma[j];
    }
  }
  return { u, sigma, v };
}

/** Modified Gram-Schmidt on the first r columns of w [rows, cols]: q [rows, r] orthonormal and q^T w [r, cols]. */
export function orthonormalColumns(w: Float64Array, rows: number, cols: number, r: number): { q: Float64Array; rMatrix: Float64Array } {
  const q = new Float64Array(rows * r);
  for (let j = 0; j < r; j++) for (let i = 0; i < rows; i++) q[i * r + j] = w[i * cols + j];
  orthonormalise(q, rows, r);
  return { q, rMatrix: matmul64(q, w, r, rows, cols, true, false) };
}

/** Orthonormalises the columns of x [rows, k] in place (modified Gram-Schmidt). */
function orthonormalise(x: Float64Array, rows: number, k: number): void {
  for (let j = 0; j < k; j++) {
    for (let p = 0; p < j; p++) {
      let dot = 0;
      for (let i = 0; i < rows; i++) dot += x[i * k + p] * x[i * k + j];
      for (let i = 0; i < rows; i++) x[i * k + j] -= dot * x[i * k + p];
    }
    let norm = 0;
    for (let i = 0; i < rows; i++) norm += x[i * k + j] ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < rows; i++) x[i * k + j] = norm > 1e-300 ? x[i * k + j] / norm : 0;
  }
}

/** Top-r singular triplets of a large w [rows, cols] by subspace iteration with oversampling. */
export function topSingularTriplets(w: Float64Array, rows: number, cols: number, r: number, iterations = 40): Triplets {
  const k = Math.min(r + 8, rows, cols);
  const gen = new Generator(0);
  let v: Float64Array = Float64Array.from({ length: cols * k }, () => gen.normal());
  orthonormalise(v, cols, k);
  let u: Float64Array = new Float64Array(rows * k);
  for (let it = 0; it < iterations; it++) {
    u = matmul64(w, v, rows, cols, k);
    orthonormalise(u, rows, k);
    v = matmul64(w, u, cols, rows, k, true);
    orthonormalise(v, cols, k);
  }
  // Rayleigh-Ritz: the SVD of u^T w (k x cols) gives the triplets within the subspace.
  const projected = matmul64(u, w, k, rows, cols, true);
  const small = svdSmall(projected, k, cols, r);
  return { u: matmul64(u, small.u, rows, k, r), sigma: small.sigma, v: small.v };
}

/**
 * Top-k singular triplets of a low-rank product b [rows, R] @ a [R, cols] without forming it:
 * QR both factors, then the SVD of the R x R core.
 */
export function lowRankSvd(b: Float64Array, a: Float64Array, rows: number, rank: number, cols: number, k: number): Triplets {
  const qb = Float64Array.from(b);
  orthonormalise(qb, rows, rank);
  const rb = matmul64(qb, b, rank, rows, rank, true); // [R, R]
  const at = new Float64Array(cols * rank);
  for (let i = 0; i < rank; i++) for (let j = 0; j < cols; j++) at[j * rank + i] = a[i * cols + j];
  const qa = Float64Array.from(at);
  orthonormalise(qa, cols, rank);
  const ra = matmul64(qa, at, rank, cols, rank, true); // [R, R]
  const core = matmul64(rb, ra, rank, rank, rank, false, true); // Rb Ra^T
  const small = svdSmall(core, rank, rank, Math.min(k, rank));
  const kk = Math.min(k, rank);
  return { u: matmul64(qb, small.u, rows, rank, kk), sigma: small.sigma, v: matmul64(qa, small.v, cols, rank, kk) };
}
