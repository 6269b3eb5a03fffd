import { type Conv1D, Dropout, type Linear, ModuleDict, normal_, ParameterDict } from '../../../nn/index.js';
import { type Generator, noGrad, Tensor } from '../../../tensor/index.js';
import { TunerLayer } from '../../tuner-layer.js';

/** 1 where a logit is not among the top k of its row (last dim), for masking before the softmax. */
function outsideTopK(logits: Tensor, k: number): Tensor {
  const n = logits.shape[logits.ndim - 1];
  const d = logits.contiguousData();
  const mask = new Float32Array(d.length).fill(1);
  for (let row = 0; row < d.length; row += n) {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[row + b] - d[row + a] || a - b);
    for (let j = 0; j < k; j++) mask[row + order[j]] = 0;
  }
  return new Tensor(mask, logits.shape);
}

/**
 * Each piece of a low-rank factor as a mix of bank vectors: softmax over the top-k logits of
 * its row, the other weights zero (PEFT's _get_low_rank_matrix). [..., num_vectors] -> [..., vector_length].
 */
export function mixBank(logits: Tensor, bank: Tensor, k: number): Tensor {
  const mask = noGrad(() => outsideTopK(logits, k));
  return logits.maskedFill(mask, -Infinity).softmax(-1).matmul(bank);
}

/**
 * VB-LoRA on a Linear or Conv1D (HF PEFT's vblora.Linear): A [r, in] and B [out, r] are cut into
 * pieces of vector_length, each a top-k softmax mix of vectors from a bank shared by all layers;
 * y = base(x) + dropout(x) @ A^T @ B^T.
 */
export class VbloraLayer extends TunerLayer<Linear | Conv1D> {
  readonly effect = 'adds a weight delta';
  vblora_dropout = new ModuleDict<Dropout>();
  vblora_logits_A = new ParameterDict();
  vblora_logits_B = new ParameterDict();
  readonly topk = new Map<string, number>();
  /** The adapter's shared bank (saved once, as base_model.vblora_vector_bank, so not a field of the layer). */
  readonly #bank = new Map<string, Tensor>();

  get inFeatures(): number { return this.base_layer.inFeatures; }
  get outFeatures(): number { return this.base_layer.outFeatures; }

  adapterNames(): string[] { return [...this.vblora_logits_A.items.keys()]; }

  addAdapter(name: string, o: { bank: Tensor; r: number; topk: number; dropout: number; logitsStd: number; generator: Generator }): void {
    const [numVectors, length] = o.bank.shape;
    this.vblora_logits_A.items.set(name, normal_(Tensor.zeros([o.r, this.inFeatures / length, numVectors]), o.logitsStd, o.generator));
    this.vblora_logits_B.items.set(name, normal_(Tensor.zeros([this.outFeatures / length, o.r, numVectors]), o.logitsStd, o.generator));
    this.vblora_dropout.items.set(name, new Dropout(o.dropout));
    this.topk.set(name, o.topk);
    this.#bank.set(name, o.bank);
  }

  protected removeAdapter(name: string): void {
    for (const dict of [this.vblora_logits_A, this.vblora_logits_B]) dict.items.delete(name);
    this.vblora_dropout.items.delete(name);
    this.topk.delete(name);
    this.#bank.delete(name);
  }

  override adapterState(name: string): Map<string, Tensor> {
    return new Map([['vblora_logits_A', this.vblora_logits_A.items.get(name)!], ['vblora_logits_B', this.vblora_logits_B.items.get(name)!]]);
  }

  /** A [r, in] and B [out, r] (PEFT's _get_lora_matrices). */
  factors(name: string): { A: Tensor; B: Tensor } {
    const logitsA = this.vblora_logits_A.items.get(name)!, logitsB = this.vblora_logits_B.items.get(name)!;
    const bank = this.#bank.get(name)!, k = this.topk.get(name)!;
    const r = logitsA.shape[0];
    return {
      A: mixBank(logitsA, bank, k).reshape([r, this.inFeatures]),
      B: mixBank(logitsB, bank, k).transpose(1, 2).reshape([this.outFeatures, r]),
    };
  }

  protected override delta(x: Tensor, name: string): Tensor {
    const { A, B } = this.factors(name);
    return this.vblora_dropout.items.get(name)!.forward(x).matmul(A.T).matmul(B.T);
  }

  override deltaWeight(name: string): Tensor {
    return noGrad(() => { const { A, B } = this.factors(name); return B.matmul(A); });
  }
}
