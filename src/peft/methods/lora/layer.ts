import { type Conv1D, Dropout, Linear, ModuleDict } from '../../../nn/index.js';
import { linear, loraLinear, noGrad, type Tensor } from '../../../tensor/index.js';
import { setWeightOutIn, TunerLayer, weightOutIn } from '../../tuner-layer.js';
import { DoraMagnitude } from './dora.js';

/**
 * A Linear or Conv1D with LoRA adapters: y = base(x) + sum_a s_a * B_a(A_a(dropout_a(x))).
 * Field names are HF PEFT's, so parameters are named `<path>.lora_A.<adapter>.weight`.
 */
export class LoraLayer extends TunerLayer<Linear | Conv1D> {
  readonly effect = 'adds a weight delta';
  lora_dropout = new ModuleDict<Dropout>();
  lora_A = new ModuleDict<Linear>();
  lora_B = new ModuleDict<Linear>();
  lora_magnitude_vector = new ModuleDict<DoraMagnitude>();
  readonly scaling = new Map<string, number>();
  /**
   * What PiSSA/OLoRA initialisation moved out of the base weight, s * B0 @ A0 as its factors (not
   * parameters: never trained or saved), so that disabling the adapters gives the loaded model
   * back rather than the residual one (eval's "base" is the model the user started from).
   */
  private readonly takenFromBase = new Map<string, { A0: Tensor; B0: Tensor }>();

  get inFeatures(): number {
    return this.base_layer.inFeatures;
  }
  get outFeatures(): number {
    return this.base_layer.outFeatures;
  }

  adapterNames(): string[] {
    return [...this.lora_A.items.keys()];
  }

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

  protected removeAdapter(name: string): void {
    // The base weight gets back what this adapter's initialisation took from it.
    const taken = this.takenFromBase.get(name);
    if (taken) noGrad(() => setWeightOutIn(this.base_layer, weightOutIn(this.base_layer).add(taken.B0.matmul(taken.A0).mul(this.scaling.get(name)!))));
    for (const dict of [this.lora_dropout, this.lora_A, this.lora_B, this.lora_magnitude_vector]) dict.items.delete(name);
    this.scaling.delete(name);
    this.takenFromBase.delete(name);
  }

  /** Records the initial factors an initialisation subtracted (s * B0 @ A0) from the base weight. */
  recordTakenFromBase(name: string, A0: Tensor, B0: Tensor): void {
    this.takenFromBase.set(name, { A0, B0 });
  }

  protected override loadedForward(x: Tensor): Tensor {
    let y = this.baseForward(x);
    for (const [name, { A0, B0 }] of this.takenFromBase) y = y.add(linear(linear(x, A0), B0).mul(this.scaling.get(name)!));
    return y;
  }

  /** s * B@A as [out, in]. */
  override deltaWeight(name: string): Tensor {
    const A = this.lora_A.items.get(name)!.weight,
      B = this.lora_B.items.get(name)!.weight;
    return noGrad(() => B.matmul(A).mul(this.scaling.get(name)!));
  }

  /** Row norms of W + s*B@A, [out]: DoRA's denominator, never differentiated (as PEFT detaches it). */
  weightNorm(name: string): Tensor {
    return noGrad(() => weightOutIn(this.base_layer).add(this.deltaWeight(name)).pow(2).sum(1).sqrt());
  }

  protected override forwardWith(x: Tensor, adapters: readonly string[]): Tensor {
    // The common case, one plain LoRA adapter: base and low-rank products into one output buffer.
    if (adapters.length === 1 && !this.lora_magnitude_vector.items.has(adapters[0])) {
      const name = adapters[0];
      const base = this.base_layer;
      return loraLinear(
        x,
        base instanceof Linear ? base.weight : base.weight.T,
        base.bias ?? null,
        this.lora_dropout.items.get(name)!.forward(x),
        this.lora_A.items.get(name)!.weight,
        this.lora_B.items.get(name)!.weight,
        this.scaling.get(name)!,
      );
    }
    const base = this.baseForward(x);
    let y = base;
    for (const name of adapters) y = y.add(this.loraDelta(x, name, base));
    return y;
  }

  protected override delta(x: Tensor, name: string): Tensor {
    return this.loraDelta(x, name, null);
  }

  /** s * B(A(dropout(x))), or DoRA's change to the base output (which needs base(x): given, or computed). */
  private loraDelta(x: Tensor, name: string, baseOutput: Tensor | null): Tensor {
    const A = this.lora_A.items.get(name)!,
      B = this.lora_B.items.get(name)!;
    const dropout = this.lora_dropout.items.get(name)!;
    const xd = dropout.forward(x);
    const magnitude = this.lora_magnitude_vector.items.get(name);
    // DoRA needs W x: from the base output when the input was not dropped out (the common case).
    if (magnitude) return magnitude.forward(xd, this, name, dropout.p > 0 && dropout.training ? null : (baseOutput ?? this.baseForward(x)));
    return B.forward(A.forward(xd).mul(this.scaling.get(name)!));
  }

  protected override mergeAdapter(name: string): void {
    const magnitude = this.lora_magnitude_vector.items.get(name);
    setWeightOutIn(this.base_layer, magnitude ? magnitude.mergedWeight(this, name) : weightOutIn(this.base_layer).add(this.deltaWeight(name)));
  }

  protected override unmergeAdapter(name: string): void {
    const magnitude = this.lora_magnitude_vector.items.get(name);
    setWeightOutIn(this.base_layer, magnitude ? magnitude.unmergedWeight(this, name) : weightOutIn(this.base_layer).sub(this.deltaWeight(name)));
  }

  override adapterState(name: string): Map<string, Tensor> {
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
