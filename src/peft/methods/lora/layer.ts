import { f32ToBf16 } from '../../../dtype.js';
import { ArgumentError } from '../../../errors.js';
import { Conv1D, Dropout, Linear, Module, ModuleDict } from '../../../nn/index.js';
import { Tensor, noGrad } from '../../../tensor/index.js';
import { TunerLayer } from '../../tuner-layer.js';
import { DoraMagnitude } from './dora.js';

/** The base weight as float32 [out, in], whatever the layer stores (Conv1D keeps [in, out]; bfloat16 widens). */
export function weightOutIn(base: Linear | Conv1D): Tensor {
  return (base instanceof Conv1D ? base.weight.T : base.weight).float();
}

/** 1 for the rows of a mixed batch that use `adapter`, else 0: shape [B, 1, ..., 1] to broadcast over a row. */
function rowMask(names: readonly string[], adapter: string, ndim: number): Tensor {
  const mask = Float32Array.from(names, (n) => (n === adapter ? 1 : 0));
  return new Tensor(mask, [names.length, ...new Array<number>(ndim - 1).fill(1)]);
}

/**
 * A Linear or Conv1D with LoRA adapters: y = base(x) + sum_a s_a * B_a(A_a(dropout_a(x))).
 * Field names are HF PEFT's, so parameters are named `<path>.lora_A.<adapter>.weight`.
 */
export class LoraLayer extends TunerLayer {
  base_layer: Linear | Conv1D;
  lora_dropout = new ModuleDict<Dropout>();
  lora_A = new ModuleDict<Linear>();
  lora_B = new ModuleDict<Linear>();
  lora_magnitude_vector = new ModuleDict<DoraMagnitude>();
  readonly scaling = new Map<string, number>();
  private merged: string[] = [];

  constructor(base: Linear | Conv1D) {
    super();
    this.base_layer = base;
  }

  get inFeatures(): number { return this.base_layer.inFeatures; }
  get outFeatures(): number { return this.base_layer.outFeatures; }

  baseLayer(): Module { return this.base_layer; }
  adapterNames(): string[] { return [...this.lora_A.items.keys()]; }
  mergedAdapters(): string[] { return [...this.merged]; }

  addAdapter(name: string, r: number, scaling: number, dropout: number, useDora: boolean): void {
    this.lora_dropout.items.set(name, new Dropout(dropout));
    this.lora_A.items.set(name, new Linear(this.inFeatures, r, false));
    this.lora_B.items.set(name, new Linear(r, this.outFeatures, false));
    this.scaling.set(name, scaling);
    if (useDora) this.lora_magnitude_vector.items.set(name, new DoraMagnitude(this.outFeatures));
  }

  /** Sets DoRA's magnitude to the row norms of W + s*B@A (PEFT's init; B is usually 0 then). */
  initDoraMagnitude(name: string): void {
    const magnitude = this.lora_magnitude_vector.items.get(name);
    if (magnitude) magnitude.weight.data.set(this.weightNorm(name).contiguousData());
  }

  deleteAdapter(name: string): void {
    if (this.merged.includes(name)) throw new ArgumentError(`[lora] adapter '${name}' is merged; unmerge before deleting it.`, 'Call unmerge() first.');
    for (const dict of [this.lora_dropout, this.lora_A, this.lora_B, this.lora_magnitude_vector]) dict.items.delete(name);
    this.scaling.delete(name);
    this.active = this.active.filter((a) => a !== name);
  }

  /** s * B@A as [out, in]. */
  deltaWeight(name: string): Tensor {
    const A = this.lora_A.items.get(name)!.weight, B = this.lora_B.items.get(name)!.weight;
    return noGrad(() => B.matmul(A).mul(this.scaling.get(name)!));
  }

  /** Row norms of W + s*B@A, [out]: DoRA's denominator, never differentiated (as PEFT detaches it). */
  weightNorm(name: string): Tensor {
    return noGrad(() => weightOutIn(this.base_layer).add(this.deltaWeight(name)).pow(2).sum(1).sqrt());
  }

  forward(x: Tensor): Tensor {
    let y = this.base_layer.forward(x);
    if (this.disabled) return y;
    // In a mixed batch, adapters that do not target this layer add nothing here.
    const names = this.mixedBatch ? [...new Set(this.mixedBatch)].filter((n) => this.lora_A.items.has(n)) : this.active;
    for (const name of names) {
      if (this.merged.includes(name)) continue;
      const A = this.lora_A.items.get(name), B = this.lora_B.items.get(name);
      if (!A || !B) throw new ArgumentError(`[lora] this layer has no adapter '${name}'.`, `Known adapters: ${this.adapterNames().join(', ')}.`);
      const s = this.scaling.get(name)!;
      const dropout = this.lora_dropout.items.get(name)!;
      const xd = dropout.forward(x);
      const magnitude = this.lora_magnitude_vector.items.get(name);
      let delta = magnitude
        ? magnitude.forward(xd, this, name, dropout.p > 0 && dropout.training ? null : y)
        : B.forward(A.forward(xd).mul(s));
      if (this.mixedBatch) delta = delta.mul(rowMask(this.mixedBatch, name, delta.ndim));
      y = y.add(delta);
    }
    return y;
  }

  merge(names: readonly string[]): void {
    noGrad(() => {
      for (const name of names) {
        if (this.merged.includes(name)) continue;
        const W = weightOutIn(this.base_layer);
        const magnitude = this.lora_magnitude_vector.items.get(name);
        const merged = magnitude ? magnitude.mergedWeight(this, name) : W.add(this.deltaWeight(name));
        this.setWeight(merged);
        this.merged.push(name);
      }
    });
  }

  unmerge(): void {
    noGrad(() => {
      while (this.merged.length) {
        const name = this.merged.pop()!;
        const magnitude = this.lora_magnitude_vector.items.get(name);
        const W = weightOutIn(this.base_layer);
        this.setWeight(magnitude ? magnitude.unmergedWeight(this, name) : W.sub(this.deltaWeight(name)));
      }
    });
  }

  /** Writes a new [out, in] weight into the base layer's storage, in its own layout and dtype (bfloat16 rounds). */
  private setWeight(weightOutInValue: Tensor): void {
    const stored = (this.base_layer instanceof Conv1D ? weightOutInValue.T.contiguous() : weightOutInValue).contiguousData();
    const w = this.base_layer.weight;
    if (w.dtype === 'bfloat16') f32ToBf16(stored, (w.data as Uint16Array).subarray(w.offset, w.offset + stored.length));
    else (w.data as Float32Array).set(stored, w.offset);
  }

  adapterState(name: string): Map<string, Tensor> {
    const state = new Map<string, Tensor>([
      ['lora_A.weight', this.lora_A.items.get(name)!.weight],
      ['lora_B.weight', this.lora_B.items.get(name)!.weight],
    ]);
    const magnitude = this.lora_magnitude_vector.items.get(name);
    // PEFT saves the magnitude without its '.weight' suffix, for backward compatibility.
    if (magnitude) state.set('lora_magnitude_vector', magnitude.weight);
    return state;
  }
}
