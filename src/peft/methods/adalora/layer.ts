import { type Conv1D, Dropout, type Linear, ModuleDict, normal_, ParameterDict } from '../../../nn/index.js';
import { type Generator, noGrad, Tensor } from '../../../tensor/index.js';
import { TunerLayer } from '../../tuner-layer.js';

/** Rows of a [r, ...] tensor (or columns with `columns`) where `keep` is true, as a new tensor. */
function selectRank(t: Tensor, keep: readonly boolean[], columns: boolean): Tensor {
  const src = columns ? t.T.contiguous() : t.contiguous();
  const width = src.size / src.shape[0];
  const data = src.contiguousData();
  const rows = keep.flatMap((k, i) => (k ? [i] : []));
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, i) => out.set(data.subarray(r * width, (r + 1) * width), i * width));
  const picked = new Tensor(out, [rows.length, ...src.shape.slice(1)]);
  return columns ? picked.T.contiguous() : picked;
}

/**
 * AdaLoRA's SVD-form update on a Linear or Conv1D (HF PEFT's SVDLinear):
 * y = base(x) + dropout(x) @ (A * E)^T @ B^T * lora_alpha / (ranknum + 1e-5), with lora_A [r, in]
 * (right singular vectors), lora_E [r, 1] (singular values, the ones pruning zeroes) and lora_B
 * [out, r]. ranknum is the initial rank init_r, kept when triplets are pruned.
 */
export class AdaloraLayer extends TunerLayer<Linear | Conv1D> {
  readonly effect = 'adds a weight delta';
  lora_dropout = new ModuleDict<Dropout>();
  lora_A = new ParameterDict();
  lora_E = new ParameterDict();
  lora_B = new ParameterDict();
  readonly ranknum = new Map<string, number>();
  readonly scaling = new Map<string, number>();
  /** The current allocation while training (null: every triplet): saving keeps these rows only, as PEFT does. */
  readonly rankMask = new Map<string, boolean[]>();

  get inFeatures(): number {
    return this.base_layer.inFeatures;
  }
  get outFeatures(): number {
    return this.base_layer.outFeatures;
  }

  adapterNames(): string[] {
    return [...this.lora_A.items.keys()];
  }

  addAdapter(name: string, o: { r: number; ranknum: number; alpha: number; dropout: number; init: boolean; generator: Generator }): void {
    const A = Tensor.zeros([o.r, this.inFeatures]),
      E = Tensor.zeros([o.r, 1]),
      B = Tensor.zeros([this.outFeatures, o.r]);
    // PEFT: E = 0 and A, B ~ N(0, 0.02); without init, torch.randn for all three.
    normal_(A, o.init ? 0.02 : 1, o.generator);
    normal_(B, o.init ? 0.02 : 1, o.generator);
    if (!o.init) normal_(E, 1, o.generator);
    this.lora_A.items.set(name, A);
    this.lora_E.items.set(name, E);
    this.lora_B.items.set(name, B);
    this.lora_dropout.items.set(name, new Dropout(o.dropout));
    this.ranknum.set(name, o.ranknum);
    this.scaling.set(name, o.alpha > 0 ? o.alpha : o.ranknum);
  }

  protected removeAdapter(name: string): void {
    for (const dict of [this.lora_A, this.lora_E, this.lora_B]) dict.items.delete(name);
    this.lora_dropout.items.delete(name);
    for (const map of [this.ranknum, this.scaling, this.rankMask]) map.delete(name);
  }

  override adapterState(name: string): Map<string, Tensor> {
    return new Map([
      ['lora_A', this.lora_A.items.get(name)!],
      ['lora_B', this.lora_B.items.get(name)!],
      ['lora_E', this.lora_E.items.get(name)!],
    ]);
  }

  /** With an allocation in force, PEFT saves only the kept triplets (resize_state_dict_by_rank_pattern). */
  override savedState(name: string): Map<string, Tensor> {
    const keep = this.rankMask.get(name);
    const state = this.adapterState(name);
    if (!keep || keep.every(Boolean)) return state;
    return noGrad(() => new Map([...state].map(([k, t]) => [k, selectRank(t, keep, k === 'lora_B')])));
  }

  private factor(name: string): number {
    return this.scaling.get(name)! / (this.ranknum.get(name)! + 1e-5);
  }

  protected override delta(x: Tensor, name: string): Tensor {
    const A = this.lora_A.items.get(name)!,
      E = this.lora_E.items.get(name)!,
      B = this.lora_B.items.get(name)!;
    return this.lora_dropout.items.get(name)!.forward(x).matmul(A.mul(E).T).matmul(B.T).mul(this.factor(name));
  }

  override deltaWeight(name: string): Tensor {
    const A = this.lora_A.items.get(name)!,
      E = this.lora_E.items.get(name)!,
      B = this.lora_B.items.get(name)!;
    return noGrad(() => B.matmul(A.mul(E)).mul(this.factor(name)));
  }
}
