import { kaimingUniform_, type Linear, ParameterDict } from '../../../nn/index.js';
import { type Generator, Tensor } from '../../../tensor/index.js';
import { setWeightOutIn, TunerLayer, weightOutIn } from '../../tuner-layer.js';
import { eye } from '../oft/rotation.js';

/** Each column divided by its Euclidean norm. */
const unitColumns = (u: Tensor) => u.div(u.pow(2).sum(0, true).sqrt());

/**
 * Householder reflection adaptation on a Linear (HF PEFT's HRALinear): the weight becomes W @ H,
 * H = H_0 H_1 ... H_{r-1} with H_i = I - 2 u_i u_i^T for the unit columns u_i of hra_u [in, r]
 * (with apply_GS: H = I - 2 U U^T for the Gram-Schmidt orthonormalised U).
 */
export class HraLayer extends TunerLayer<Linear> {
  readonly effect = 'rotates the weight';
  hra_u = new ParameterDict();
  readonly applyGS = new Map<string, boolean>();

  get inFeatures(): number {
    return this.base_layer.inFeatures;
  }

  adapterNames(): string[] {
    return [...this.hra_u.items.keys()];
  }

  /** PEFT's init: kaiming-uniform half columns, each repeated twice (H_u H_u = I), or all random when r is odd or init is off. */
  addAdapter(name: string, r: number, applyGS: boolean, initWeights: boolean, generator: Generator): void {
    const paired = initWeights && r % 2 === 0;
    // kaiming_uniform_ on PyTorch's [in, r'] tensor takes fan_in = r' (its second dimension).
    const half = kaimingUniform_(Tensor.zeros([this.inFeatures, paired ? r / 2 : r]), Math.sqrt(5), generator);
    const u = paired
      ? half
          .unsqueeze(2)
          .expand([this.inFeatures, r / 2, 2])
          .reshape([this.inFeatures, r])
          .contiguous()
      : half;
    this.hra_u.items.set(name, u);
    this.applyGS.set(name, applyGS);
  }

  protected removeAdapter(name: string): void {
    this.hra_u.items.delete(name);
    this.applyGS.delete(name);
  }

  override adapterState(name: string): Map<string, Tensor> {
    return new Map([['hra_u', this.hra_u.items.get(name)!]]);
  }

  /** H [in, in] (PEFT's get_delta_weight); `reverse` gives H^T = H^-1, for unmerging. */
  reflection(name: string, reverse = false): Tensor {
    const u = this.hra_u.items.get(name)!;
    const [n, r] = u.shape;
    if (this.applyGS.get(name)) {
      const columns: Tensor[] = [];
      for (let i = 0; i < r; i++) {
        let ui = u.narrow(1, i, 1);
        for (const q of columns) ui = ui.sub(q.mul(q.T.matmul(ui)));
        columns.push(unitColumns(ui));
      }
      const U = columns.reduce((acc, c) => (acc ? acc.add(c.matmul(c.T)) : c.matmul(c.T)), null as Tensor | null)!;
      return eye(n).sub(U.mul(2)); // symmetric and its own inverse
    }
    const unit = unitColumns(u);
    let H = eye(n);
    for (let k = 0; k < r; k++) {
      const ui = unit.narrow(1, reverse ? r - 1 - k : k, 1);
      H = H.sub(H.matmul(ui).matmul(ui.T).mul(2));
    }
    return H;
  }

  protected override forwardWith(x: Tensor, adapters: readonly string[]): Tensor {
    // x @ (W H_a H_b ...)^T = x @ (H_a H_b ...)^T @ W^T: rotate the input, then run the base layer.
    let H = this.reflection(adapters[0]);
    for (const name of adapters.slice(1)) H = H.matmul(this.reflection(name));
    return this.baseForward(x.matmul(H.T));
  }

  protected override mergeAdapter(name: string): void {
    setWeightOutIn(this.base_layer, weightOutIn(this.base_layer).matmul(this.reflection(name)));
  }

  protected override unmergeAdapter(name: string): void {
    setWeightOutIn(this.base_layer, weightOutIn(this.base_layer).matmul(this.reflection(name, true)));
  }
}
