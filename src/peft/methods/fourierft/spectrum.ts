import { Tensor, TorchGenerator, torchRandperm } from '../../../tensor/index.js';

/** Where a layer's spectral coefficients sit in its [out, in] spectrum. */
export interface FrequencyIndices { rows: Int32Array; cols: Int32Array }

/**
 * PEFT's FourierFTLayer.update_layer: `torch.randperm(out * in,
 * generator=torch.Generator().manual_seed(seed))[:n]`, split into (idx // in, idx % in).
 * PEFT never saves these, so this must be PyTorch's exact permutation.
 */
export function frequencyIndices(outFeatures: number, inFeatures: number, n: number, seed: number): FrequencyIndices {
  const flat = torchRandperm(outFeatures * inFeatures, new TorchGenerator(seed)).subarray(0, n);
  return { rows: flat.map((i) => Math.floor(i / inFeatures)), cols: flat.map((i) => i % inFeatures) };
}

/**
 * The real inverse 2-D DFT of a sparse real spectrum S [M, N] with coefficients s_j at
 * (r_j, c_j), written as two rank-n products so it is differentiable and never needs the
 * dense spectrum:
 *   Re ifft2(S)[a, b] = 1/(MN) sum_j s_j cos(2 pi (r_j a / M + c_j b / N))
 *                    = 1/(MN) [ (P diag s) C - (Q diag s) Sn ][a, b]
 * with P[a, j] = cos(2 pi r_j a / M), Q = sin(...), C[j, b] = cos(2 pi c_j b / N), Sn = sin(...).
 * Angles are reduced exactly as integers (r_j a mod M) before the trigonometry, in float64.
 */
export class InverseDft2 {
  /** P, Q [M, n] and C, Sn [n, N]. */
  readonly P: Tensor;
  readonly Q: Tensor;
  readonly C: Tensor;
  readonly Sn: Tensor;

  constructor(readonly M: number, readonly N: number, { rows, cols }: FrequencyIndices) {
    const n = rows.length;
    [this.P, this.Q] = InverseDft2.basis(M, rows, (a, j) => a * n + j, [M, n]);
    [this.C, this.Sn] = InverseDft2.basis(N, cols, (b, j) => j * N + b, [n, N]);
  }

  /** cos and sin of 2 pi k t / size for t < size and each frequency k, laid out by `at`. */
  private static basis(size: number, freqs: Int32Array, at: (t: number, j: number) => number, shape: number[]): [Tensor, Tensor] {
    const cosTable = Float64Array.from({ length: size }, (_, t) => Math.cos((2 * Math.PI * t) / size));
    const sinTable = Float64Array.from({ length: size }, (_, t) => Math.sin((2 * Math.PI * t) / size));
    const cos = new Float32Array(size * freqs.length), sin = new Float32Array(size * freqs.length);
    freqs.forEach((k, j) => {
      for (let t = 0; t < size; t++) {
        const phase = (k * t) % size;
        cos[at(t, j)] = cosTable[phase];
        sin[at(t, j)] = sinTable[phase];
      }
    });
    return [new Tensor(cos, shape), new Tensor(sin, shape)];
  }

  /** Re ifft2 of the spectrum with coefficients `s` [n], times `scale`: [M, N]. */
  weight(s: Tensor, scale: number): Tensor {
    return this.P.mul(s).matmul(this.C).sub(this.Q.mul(s).matmul(this.Sn)).mul(scale / (this.M * this.N));
  }

  /** x @ weight(s, scale)^T without forming the [M, N] weight: 4n(M + N) flops per row of x instead of 4nMN once. */
  apply(x: Tensor, s: Tensor, scale: number): Tensor {
    const k = scale / (this.M * this.N);
    const viaCos = x.matmul(this.C.T).mul(s).matmul(this.P.T);
    const viaSin = x.matmul(this.Sn.T).mul(s).matmul(this.Q.T);
    return viaCos.sub(viaSin).mul(k);
  }
}
