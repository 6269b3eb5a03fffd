import { type Conv1D, type Linear, ParameterDict } from '../../../nn/index.js';
import { linear, noGrad, type Tensor } from '../../../tensor/index.js';
import { TunerLayer } from '../../tuner-layer.js';
import { type FrequencyIndices, InverseDft2 } from './spectrum.js';

interface SpectralAdapter {
  indices: FrequencyIndices;
  scaling: number;
  dft: InverseDft2;
}

/**
 * A Linear or Conv1D with FourierFT adapters (HF PEFT's fourierft.Linear): the update is
 * dW = scaling * Re ifft2(S), S the [out, in] spectrum that is zero except for the trained
 * coefficients `fourierft_spectrum` [n] at frequencies drawn from random_loc_seed.
 */
export class FourierFTLayer extends TunerLayer<Linear | Conv1D> {
  readonly effect = 'adds a weight delta';
  fourierft_spectrum = new ParameterDict();
  readonly #adapters = new Map<string, SpectralAdapter>();

  adapterNames(): string[] {
    return [...this.fourierft_spectrum.items.keys()];
  }

  addAdapter(name: string, spectrum: Tensor, indices: FrequencyIndices, scaling: number): void {
    this.fourierft_spectrum.items.set(name, spectrum);
    this.#adapters.set(name, { indices, scaling, dft: new InverseDft2(this.base_layer.outFeatures, this.base_layer.inFeatures, indices) });
  }

  /** The (row, col) of each coefficient, as PEFT's `indices` buffer. */
  frequencyIndices(name: string): FrequencyIndices {
    return this.#adapters.get(name)!.indices;
  }

  protected removeAdapter(name: string): void {
    this.fourierft_spectrum.items.delete(name);
    this.#adapters.delete(name);
  }

  adapterState(name: string): Map<string, Tensor> {
    return new Map([['fourierft_spectrum', this.fourierft_spectrum.items.get(name)!]]);
  }

  /** Through the two rank-n products for few rows; through the [out, in] update (as PEFT) for many. */
  protected override delta(x: Tensor, name: string): Tensor {
    const { dft, scaling } = this.#adapters.get(name)!;
    const s = this.fourierft_spectrum.items.get(name)!;
    const rows = x.size / x.shape[x.ndim - 1];
    return rows * (dft.M + dft.N) < dft.M * dft.N ? dft.apply(x, s, scaling) : linear(x, dft.weight(s, scaling));
  }

  override deltaWeight(name: string): Tensor {
    const { dft, scaling } = this.#adapters.get(name)!;
    return noGrad(() => dft.weight(this.fourierft_spectrum.items.get(name)!, scaling));
  }
}
