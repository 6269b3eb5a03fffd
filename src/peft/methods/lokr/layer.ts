import { kaimingUniform_, type Linear, ParameterDict } from '../../../nn/index.js';
import { type Generator, Tensor } from '../../../tensor/index.js';
import { LycorisLayer, type LycorisSettings } from '../lycoris/layer.js';
import type { LoKrInit } from './config.js';
import { factorization } from './factorization.js';

/** kron(a [p, q], b [s, t]) = [p*s, q*t] with block (i, j) = a[i, j] * b, differentiable in both. */
function kron(a: Tensor, b: Tensor): Tensor {
  const [p, q] = a.shape,
    [s, t] = b.shape;
  return a
    .reshape([p, 1, q, 1])
    .mul(b.reshape([1, s, 1, t]))
    .reshape([p * s, q * t]);
}

/**
 * A Linear with LoKr adapters (HF PEFT's lokr.Linear): dW = s * kron(W1, W2) with out = out_l *
 * out_k and in = in_m * in_n from `factorization`. W1 [out_l, in_m] is full unless decompose_both
 * and r is small (then lokr_w1_a @ lokr_w1_b); W2 [out_k, in_n] is lokr_w2_a @ lokr_w2_b when
 * r < max(out_k, in_n) / 2, else full. s = alpha / r.
 */
export class LoKrLayer extends LycorisLayer {
  lokr_w1 = new ParameterDict();
  lokr_w1_a = new ParameterDict();
  lokr_w1_b = new ParameterDict();
  lokr_w2 = new ParameterDict();
  lokr_w2_a = new ParameterDict();
  lokr_w2_b = new ParameterDict();

  constructor(base: Linear) {
    super(base);
  }

  protected factors(): Record<string, ParameterDict> {
    return { lokr_w1: this.lokr_w1, lokr_w1_a: this.lokr_w1_a, lokr_w1_b: this.lokr_w1_b, lokr_w2: this.lokr_w2, lokr_w2_a: this.lokr_w2_a, lokr_w2_b: this.lokr_w2_b };
  }

  addAdapter(name: string, r: number, settings: LycorisSettings, shape: { decomposeBoth: boolean; decomposeFactor: number }, init: LoKrInit, generator: Generator): void {
    const [inM, inN] = factorization(this.base_layer.inFeatures, shape.decomposeFactor);
    const [outL, outK] = factorization(this.base_layer.outFeatures, shape.decomposeFactor);
    const fullW1 = !(shape.decomposeBoth && r < Math.max(outL, inM) / 2);
    const fullW2 = !(r < Math.max(outK, inN) / 2);
    // PEFT's init: true zeroes the left factor, 'lycoris' the right one, false neither.
    const kaiming = (dims: number[]) => kaimingUniform_(Tensor.zeros(dims), Math.sqrt(5), generator);
    const make = (dims: number[], zero: boolean) => (zero ? Tensor.zeros(dims) : kaiming(dims));
    const zeroLeft = init === true,
      zeroRight = init === 'lycoris';
    if (fullW1) this.lokr_w1.items.set(name, make([outL, inM], zeroLeft));
    else {
      this.lokr_w1_a.items.set(name, make([outL, r], zeroLeft));
      this.lokr_w1_b.items.set(name, kaiming([r, inM]));
    }
    if (fullW2) this.lokr_w2.items.set(name, make([outK, inN], zeroRight));
    else {
      this.lokr_w2_a.items.set(name, kaiming([outK, r]));
      this.lokr_w2_b.items.set(name, make([r, inN], zeroRight));
    }
    this.settings.set(name, settings);
  }

  private factor(full: ParameterDict, a: ParameterDict, b: ParameterDict, name: string): Tensor {
    return full.items.get(name) ?? a.items.get(name)!.matmul(b.items.get(name)!);
  }

  protected updateWeight(name: string): Tensor {
    const w1 = this.factor(this.lokr_w1, this.lokr_w1_a, this.lokr_w1_b, name);
    const w2 = this.factor(this.lokr_w2, this.lokr_w2_a, this.lokr_w2_b, name);
    return kron(w1, w2).mul(this.settings.get(name)!.scaling);
  }
}
