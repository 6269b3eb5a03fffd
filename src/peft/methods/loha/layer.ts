import { kaimingUniform_, type Linear, ParameterDict } from '../../../nn/index.js';
import { type Generator, Tensor } from '../../../tensor/index.js';
import { LycorisLayer, type LycorisSettings } from '../lycoris/layer.js';

/**
 * A Linear with LoHa adapters (HF PEFT's loha.Linear): dW = s * (W1a W1b) ⊙ (W2a W2b), a Hadamard
 * product of two rank-r products, W*a [out, r], W*b [r, in], s = alpha / r.
 */
export class LoHaLayer extends LycorisLayer {
  hada_w1_a = new ParameterDict();
  hada_w1_b = new ParameterDict();
  hada_w2_a = new ParameterDict();
  hada_w2_b = new ParameterDict();

  constructor(base: Linear) {
    super(base);
  }

  protected factors(): Record<string, ParameterDict> {
    return { hada_w1_a: this.hada_w1_a, hada_w1_b: this.hada_w1_b, hada_w2_a: this.hada_w2_a, hada_w2_b: this.hada_w2_b };
  }

  /** PEFT's init: kaiming-uniform (a = sqrt 5) everywhere, with hada_w2_b = 0 unless `random`. */
  addAdapter(name: string, r: number, settings: LycorisSettings, random: boolean, generator: Generator): void {
    const { inFeatures: n, outFeatures: m } = this.base_layer;
    const kaiming = (shape: number[]) => kaimingUniform_(Tensor.zeros(shape), Math.sqrt(5), generator);
    this.hada_w1_a.items.set(name, kaiming([m, r]));
    this.hada_w1_b.items.set(name, kaiming([r, n]));
    this.hada_w2_a.items.set(name, kaiming([m, r]));
    this.hada_w2_b.items.set(name, random ? kaiming([r, n]) : Tensor.zeros([r, n]));
    this.settings.set(name, settings);
  }

  protected updateWeight(name: string): Tensor {
    const w1 = this.hada_w1_a.items.get(name)!.matmul(this.hada_w1_b.items.get(name)!);
    const w2 = this.hada_w2_a.items.get(name)!.matmul(this.hada_w2_b.items.get(name)!);
    return w1.mul(w2).mul(this.settings.get(name)!.scaling);
  }
}
