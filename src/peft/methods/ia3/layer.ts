import { type Conv1D, type Linear, ParameterDict } from '../../../nn/index.js';
import { Tensor } from '../../../tensor/index.js';
import { setWeightOutIn, TunerLayer, weightOutIn } from '../../tuner-layer.js';

/**
 * A Linear or Conv1D with (IA)^3 vectors (HF PEFT's ia3.Linear): a feed-forward layer scales its
 * input, y = W (l * x) + b with l [1, in]; any other scales its output, y = l * (W x + b) with
 * l [out, 1]. Several active adapters multiply their vectors.
 */
export class IA3Layer extends TunerLayer<Linear | Conv1D> {
  readonly effect = 'scales activations';
  ia3_l = new ParameterDict();

  constructor(
    base: Linear | Conv1D,
    readonly isFeedforward: boolean,
  ) {
    super(base);
  }

  adapterNames(): string[] {
    return [...this.ia3_l.items.keys()];
  }

  /** Adds a vector of ones (PEFT's init), or of N(0, 1) draws when `ones` is false. */
  addAdapter(name: string, ones: boolean, normal: () => number): void {
    const shape = this.isFeedforward ? [1, this.base_layer.inFeatures] : [this.base_layer.outFeatures, 1];
    const l = Tensor.ones(shape);
    if (!ones)
      l.data.forEach((_, i) => {
        l.data[i] = normal();
      });
    this.ia3_l.items.set(name, l);
  }

  protected removeAdapter(name: string): void {
    this.ia3_l.items.delete(name);
  }

  adapterState(name: string): Map<string, Tensor> {
    return new Map([['ia3_l', this.ia3_l.items.get(name)!]]);
  }

  /** The product of the adapters' vectors, flat: [in] for a feed-forward layer, else [out]. */
  private scaling(adapters: readonly string[]): Tensor {
    let s: Tensor | null = null;
    for (const name of adapters) {
      const l = this.ia3_l.items.get(name)!;
      const flat = l.reshape([l.size]);
      s = s ? s.mul(flat) : flat;
    }
    return s!;
  }

  protected override forwardWith(x: Tensor, adapters: readonly string[]): Tensor {
    const s = this.scaling(adapters);
    return this.isFeedforward ? this.baseForward(x.mul(s)) : this.baseForward(x).mul(s);
  }

  protected override mergeAdapter(name: string): void {
    this.scaleBase(this.ia3_l.items.get(name)!, (w, l) => w.mul(l));
  }

  /** Divides by l + 1e-8 as PEFT does, so a zero entry does not give infinities (and the undo is approximate there). */
  protected override unmergeAdapter(name: string): void {
    this.scaleBase(this.ia3_l.items.get(name)!, (w, l) => w.div(l.add(1e-8)));
  }

  /** Applies `op` to the [out, in] weight with l ([1, in] or [out, 1]) and, for an output scale, to the bias. */
  private scaleBase(l: Tensor, op: (w: Tensor, l: Tensor) => Tensor): void {
    setWeightOutIn(this.base_layer, op(weightOutIn(this.base_layer), l));
    const bias = this.base_layer.bias;
    if (!this.isFeedforward && bias) (bias.data as Float32Array).set(op(bias, l.reshape([l.size])).contiguousData(), bias.offset);
  }
}
