import { linear, noGrad, Tensor } from '../../../tensor/index.js';
import { Module } from '../../../nn/index.js';
import type { LoraLayer } from './layer.js';
import { weightOutIn } from '../../tuner-layer.js';

/**
 * DoRA (Liu et al., 2024): the weight is split into a learned magnitude per output and a
 * direction W + s*B@A normalised per row; the norm is detached, as in HF PEFT.
 */
export class DoraMagnitude extends Module {
  weight: Tensor;
  constructor(outFeatures: number) {
    super();
    this.weight = Tensor.zeros([outFeatures]);
  }

  /**
   * The change DoRA makes to the base output:
   * (m/||W + sBA|| - 1) * (W x) + (m/||W + sBA||) * s * B(A(x)).
   * `baseOutput` is base(x) when the input was not dropped out, so W x = baseOutput - bias.
   */
  forward(x: Tensor, layer: LoraLayer, adapter: string, baseOutput: Tensor | null): Tensor {
    const A = layer.lora_A.items.get(adapter)!,
      B = layer.lora_B.items.get(adapter)!;
    const s = layer.scaling.get(adapter)!;
    const scale = this.weight.div(layer.weightNorm(adapter)); // [out]
    const bias = layer.base_layer.bias ?? null;
    const wx = baseOutput ? (bias ? baseOutput.sub(bias) : baseOutput) : linear(x, weightOutIn(layer.base_layer));
    const loraOut = B.forward(A.forward(x)).mul(s);
    return scale.sub(1).mul(wx).add(scale.mul(loraOut));
  }

  /** The norm ||W + dW|| at merge time: the merged weight alone cannot give it back (PEFT caches it too). */
  #normAtMerge: Tensor | null = null;

  /** (m / ||W + dW||) * (W + dW), the weight merge writes. */
  mergedWeight(layer: LoraLayer, adapter: string): Tensor {
    return noGrad(() => {
      this.#normAtMerge = layer.weightNorm(adapter);
      const direction = weightOutIn(layer.base_layer).add(layer.deltaWeight(adapter));
      return direction.mul(this.weight.div(this.#normAtMerge).unsqueeze(1));
    });
  }

  /** W = W' / (m / ||W + dW||) - dW. */
  unmergedWeight(layer: LoraLayer, adapter: string): Tensor {
    return noGrad(() => {
      const factor = this.weight.div(this.#normAtMerge!).unsqueeze(1);
      this.#normAtMerge = null;
      return weightOutIn(layer.base_layer).div(factor).sub(layer.deltaWeight(adapter));
    });
  }
}
