import { Tensor, TorchGenerator, torchRandperm } from '../../../tensor/index.js';

/** Where a layer's spectral coefficients sit in its [out, in] spectrum. */
export interface FrequencyIndices {
  rows: Int32Array;
  cols: Int32Array;
}

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
 * cos and sin of 2 pi k_j t / size for t < size and every frequency k_j, as [size, n]
 * ('frequency-last') or [n, size] ('frequency-first'). The phase k_j t mod size advances by
 * k_j per step, so every angle is an exact table entry.
 */
function trigBasis(size: number, freqs: Int32Array, layout: 'frequency-last' | 'frequency-first'): [Tensor, Tensor] {
  const cosTable = Float64Array.from({ length: size }, (_, t) => Math.cos((2 * Math.PI * t) / size));
  const sinTable = Float64Array.from({ length: size }, (_, t) => Math.sin((2 * Math.PI * t) / size));
  const n = freqs.length;
  const cos = new Float32Array(size * n),
    sin = new Float32Array(size * n);
  if (layout === 'frequency-first') {
    for (let j = 0; j < n; j++) {
      const k = freqs[j],
        row = j * size;
      for (let t = 0, phase = 0; t < size; t++) {
        cos[row + t] = cosTable[phase];
        sin[row + t] = sinTable[phase];
        phase += k;
        if (phase >= size) phase -= size;
      }
    }
  } else {
    const phase = new Int32Array(n);
    for (let t = 0; t < size; t++) {
      const row = t * n;
      for (let j = 0; j < n; j++) {
        cos[row + j] = cosTable[phase[j]];
        sin[row + j] = sinTable[phase[j]];
        phase[j] += freqs[j];
        if (phase[j] >= size) phase[j] -= size;
      }
    }
  }
  const shape = layout === 'frequency-first' ? [n, size] : [size, n];
  return [new Tensor(cos, shape), new Tensor(sin, shape)];
}

/**
 * The real inverse 2-D DFT of a sparse real spectrum S [M, N] with coefficients s_j at
 * (r_j, c_j), written as two rank-n products so it is differentiable and never needs the
 * dense spectrum:
 *   Re ifft2(S)[a, b] = 1/(MN) sum_j s_j cos(2 pi (r_j a / M + c_j b / N))
 *                    = 1/(MN) [ (P diag s) C - (Q diag s) Sn ][a, b]
 * with P[a, j] = cos(2 pi r_j a / M), Q = sin(...), C[j, b] = cos(2 pi c_j b / N), Sn = sin(...).
 * Angles are reduced exactly as integers (r_j a mod M) and read from float64 tables.
 */
export class InverseDft2 {
  constructor(
    readonly M: number,
    readonly N: number,
    private readonly indices: FrequencyIndices,
  ) {}

  /**
   * P, Q [M, n] and C, Sn [n, N], built per use rather than kept: together they are 4n(M + N)
   * floats, several times the layer's own weight at PEFT's default n = 1000.
   */
  private bases(): { P: Tensor; Q: Tensor; C: Tensor; Sn: Tensor } {
    const [P, Q] = trigBasis(this.M, this.indices.rows, 'frequency-last');
    const [C, Sn] = trigBasis(this.N, this.indices.cols, 'frequency-first');
    return { P, Q, C, Sn };
  }

  /** Re ifft2 of the spectrum with coefficients `s` [n], times `scale`: [M, N]. */
  weight(s: Tensor, scale: number): Tensor {
    const { P, Q, C, Sn } = this.bases();
    return P.mul(s)
      .matmul(C)
      .sub(Q.mul(s).matmul(Sn))
      .mul(scale / (this.M * this.N));
  }

  /** x @ weight(s, scale)^T without forming the [M, N] weight: 4n(M + N) flops per row of x instead of 4nMN once. */
  apply(x: Tensor, s: Tensor, scale: number): Tensor {
    const k = scale / (this.M * this.N);
    const { P, Q, C, Sn } = this.bases();
    const viaCos = x.matmul(C.T).mul(s).matmul(P.T);
    const viaSin = x.matmul(Sn.T).mul(s).matmul(Q.T);
    return viaCos.sub(viaSin).mul(k);
  }
}
