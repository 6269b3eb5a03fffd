import { type Conv1D, Dropout, type Linear, ModuleDict, normal_, ParameterDict } from '../../../nn/index.js';
import { type Generator, noGrad, Tensor } from '../../../tensor/index.js';
import { ArgumentError } from '../../../errors.js';
import { TunerLayer } from '../../tuner-layer.js';

/** The indices of each row's k largest logits (last dim), largest first, as torch.topk. */
function topKIndices(logits: Tensor, k: number): Int32Array {
  const n = logits.shape[logits.ndim - 1];
  const d = logits.contiguousData();
  const out = new Int32Array((d.length / n) * k);
  for (let row = 0, o = 0; row < d.length; row += n) {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[row + b] - d[row + a] || a - b);
    for (let j = 0; j < k; j++) out[o++] = order[j];
  }
  return out;
}

/** 1 where a logit is not among the top k of its row (last dim), for masking before the softmax. */
function outsideTopK(logits: Tensor, k: number): Tensor {
  const n = logits.shape[logits.ndim - 1];
  const mask = new Float32Array(logits.size).fill(1);
  topKIndices(logits, k).forEach((index, i) => {
    mask[Math.floor(i / k) * n + index] = 0;
  });
  return new Tensor(mask, logits.shape);
}

/**
 * PEFT's save_only_topk_weights form of a logits tensor [..., num_vectors]: the top-k indices
 * [..., k] and their softmax weights without the last (which is 1 minus the others) [..., k - 1].
 */
function topKForm(logits: Tensor, k: number): { indices: Tensor; weights: Tensor } {
  const n = logits.shape[logits.ndim - 1];
  const d = logits.contiguousData();
  const indices = topKIndices(logits, k);
  const weights = new Float32Array((indices.length / k) * (k - 1));
  for (let row = 0; row < indices.length / k; row++) {
    const top = Array.from(indices.subarray(row * k, (row + 1) * k), (i) => d[row * n + i]);
    const e = top.map((v) => Math.exp(v - top[0]));
    const total = e.reduce((a, b) => a + b, 0);
    for (let j = 0; j < k - 1; j++) weights[row * (k - 1) + j] = e[j] / total;
  }
  const lead = logits.shape.slice(0, -1);
  return { indices: new Tensor(indices, [...lead, k]), weights: new Tensor(weights, [...lead, k - 1]) };
}

/** The logits a top-k form stands for (PEFT's loading): log of the weights at the indices, -inf elsewhere. */
function logitsFromTopK(indices: Tensor, weights: Tensor, target: Tensor): void {
  const n = target.shape[target.ndim - 1],
    k = indices.shape[indices.ndim - 1];
  const idx = indices.int32Data(),
    w = weights.contiguousData();
  const out = target.data as Float32Array;
  out.fill(-Infinity, target.offset, target.offset + target.size);
  for (let row = 0; row < idx.length / k; row++) {
    let rest = 1;
    for (let j = 0; j < k; j++) {
      const weight = j < k - 1 ? w[row * (k - 1) + j] : rest;
      rest -= j < k - 1 ? weight : 0;
      out[target.offset + row * n + idx[row * k + j]] = Math.log(weight);
    }
  }
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
  /** Adapters saved in PEFT's save_only_topk_weights form. */
  readonly saveTopK = new Set<string>();
  /** The adapter's shared bank (saved once, as base_model.vblora_vector_bank, so not a field of the layer). */
  readonly #bank = new Map<string, Tensor>();

  get inFeatures(): number {
    return this.base_layer.inFeatures;
  }
  get outFeatures(): number {
    return this.base_layer.outFeatures;
  }

  adapterNames(): string[] {
    return [...this.vblora_logits_A.items.keys()];
  }

  addAdapter(name: string, o: { bank: Tensor; r: number; topk: number; dropout: number; logitsStd: number; saveTopK: boolean; generator: Generator }): void {
    const [numVectors, length] = o.bank.shape;
    this.vblora_logits_A.items.set(name, normal_(Tensor.zeros([o.r, this.inFeatures / length, numVectors]), o.logitsStd, o.generator));
    this.vblora_logits_B.items.set(name, normal_(Tensor.zeros([this.outFeatures / length, o.r, numVectors]), o.logitsStd, o.generator));
    this.vblora_dropout.items.set(name, new Dropout(o.dropout));
    this.topk.set(name, o.topk);
    if (o.saveTopK) this.saveTopK.add(name);
    this.#bank.set(name, o.bank);
  }

  protected removeAdapter(name: string): void {
    for (const dict of [this.vblora_logits_A, this.vblora_logits_B]) dict.items.delete(name);
    this.vblora_dropout.items.delete(name);
    this.topk.delete(name);
    this.saveTopK.delete(name);
    this.#bank.delete(name);
  }

  override adapterState(name: string): Map<string, Tensor> {
    return new Map([
      ['vblora_logits_A', this.vblora_logits_A.items.get(name)!],
      ['vblora_logits_B', this.vblora_logits_B.items.get(name)!],
    ]);
  }

  /** With save_only_topk_weights: `<logits>_topk_indices` and `<logits>_topk_weights` instead of the logits. */
  override savedState(name: string): Map<string, Tensor> {
    if (!this.saveTopK.has(name)) return this.adapterState(name);
    const k = this.topk.get(name)!;
    return new Map(
      [...this.adapterState(name)].flatMap(([key, logits]) => {
        const { indices, weights } = topKForm(logits, k);
        return [
          [`${key}_topk_indices`, indices],
          [`${key}_topk_weights`, weights],
        ] as [string, Tensor][];
      }),
    );
  }

  override loadSaved(name: string, saved: Map<string, Tensor>): void {
    for (const [key, logits] of this.adapterState(name)) {
      if (this.saveTopK.has(name)) logitsFromTopK(saved.get(`${key}_topk_indices`)!, saved.get(`${key}_topk_weights`)!, logits);
      else (logits.data as Float32Array).set(saved.get(key)!.contiguousData(), logits.offset);
    }
  }

  /** A [r, in] and B [out, r] (PEFT's _get_lora_matrices). */
  factors(name: string): { A: Tensor; B: Tensor } {
    const logitsA = this.vblora_logits_A.items.get(name)!,
      logitsB = this.vblora_logits_B.items.get(name)!;
    if (
      this.training &&
      logitsA
        .contiguousData()
        .subarray(0, logitsA.shape[2])
        .some((v) => v === -Infinity)
    ) {
      throw new ArgumentError(
        '[vblora] the logits hold -inf: this adapter was saved with save_only_topk_weights, which keeps too little to train on.',
        'Train from an adapter saved with save_only_topk_weights false (or from scratch); top-k files are for inference.',
      );
    }
    const bank = this.#bank.get(name)!,
      k = this.topk.get(name)!;
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
    return noGrad(() => {
      const { A, B } = this.factors(name);
      return B.matmul(A);
    });
  }
}
