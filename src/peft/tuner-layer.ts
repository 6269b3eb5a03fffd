import { f32ToBf16 } from '../dtype.js';
import { ArgumentError } from '../errors.js';
import { Conv1D, Linear, Module } from '../nn/index.js';
import { linear, noGrad, Tensor } from '../tensor/index.js';

/** How a method changes its base module; shown by `peft-ts methods`, read by nothing else. */
export type TunerEffect = 'adds a weight delta' | 'scales activations' | 'rotates the weight' | 'replaces the module' | 'replaces embedding rows';

/** The base weight as float32 [out, in], whatever the layer stores (Conv1D keeps [in, out]; bfloat16 widens). */
export function weightOutIn(base: Linear | Conv1D): Tensor {
  return (base instanceof Conv1D ? base.weight.T : base.weight).float();
}

/** Writes a new [out, in] weight into a Linear or Conv1D's storage, in its own layout and dtype (bfloat16 rounds). */
export function setWeightOutIn(base: Linear | Conv1D, weightOutInValue: Tensor): void {
  const stored = (base instanceof Conv1D ? weightOutInValue.T.contiguous() : weightOutInValue).contiguousData();
  const w = base.weight;
  if (w.dtype === 'bfloat16') f32ToBf16(stored, (w.data as Uint16Array).subarray(w.offset, w.offset + stored.length));
  else (w.data as Float32Array).set(stored, w.offset);
}

/** 1 for the rows of a mixed batch that use `adapter`, else 0: shape [B, 1, ..., 1] to broadcast over a row. */
function rowMask(names: readonly string[], adapter: string, ndim: number): Tensor {
  const mask = Float32Array.from(names, (n) => (n === adapter ? 1 : 0));
  return new Tensor(mask, [names.length, ...new Array<number>(ndim - 1).fill(1)]);
}

/**
 * A module a method has wrapped (HF PEFT's BaseTunerLayer). A method says how it acts through
 * the hooks below; the disabled, merged, several-adapter and mixed-batch paths are handled here,
 * once, for every method. Field names are HF PEFT's, so parameters get PEFT's state-dict names.
 *
 * An additive method (LoRA, LoHa, VeRA, ...) implements `delta` (and `deltaWeight` to merge);
 * any other implements `forwardWith`. Merging is a capability: `mergeAdapter`/`unmergeAdapter`.
 */
export abstract class TunerLayer<B extends Module = Module> extends Module {
  base_layer: B;
  /** Adapters applied in forward, in order. */
  active: string[] = [];
  /** Set by PeftModel.withAdaptersDisabled: forward is the base module's alone. */
  disabled = false;
  /** Per-row adapter names for a mixed batch ('__base__' for none), set for one forward. */
  mixedBatch: readonly string[] | null = null;
  private merged: string[] = [];

  abstract readonly effect: TunerEffect;
  /** False where PEFT refuses several active adapters on one module (LN tuning). */
  readonly supportsMultipleActive: boolean = true;

  constructor(base: B) {
    super();
    this.base_layer = base;
  }

  /** Adapter names this layer holds. */
  abstract adapterNames(): string[];
  /** The adapter's tensors under their names relative to this layer, as HF PEFT saves them. */
  abstract adapterState(name: string): Map<string, Tensor>;
  /**
   * The tensors as PEFT saves them, where that differs from the parameters (AdaLoRA's pruned
   * triplets dropped, VB-LoRA's top-k form): built fresh, for writing only.
   */
  savedState?(name: string): Map<string, Tensor>;
  /**
   * Sets the adapter from tensors in its savedState form (keys relative to the layer, shapes
   * already checked) where they are not plain copies of parameters. Without it, each saved tensor
   * is copied into the matching savedState (or adapterState) tensor.
   */
  loadSaved?(name: string, saved: Map<string, Tensor>): void;
  /** Drops the adapter's parameters (the base class has checked it is not merged). */
  protected abstract removeAdapter(name: string): void;

  /** The output change adapter `name` adds to base(x), for additive methods. */
  protected delta?(x: Tensor, name: string): Tensor;
  /** The weight change [out, in] of an additive method on a Linear/Conv1D: merging adds it. */
  deltaWeight?(name: string): Tensor;
  /** The output with exactly `adapters` (none merged) applied; the default adds each delta. */
  protected forwardWith(x: Tensor, adapters: readonly string[]): Tensor {
    let y = this.baseForward(x);
    for (const name of adapters) y = y.add(this.requireDelta(x, name));
    return y;
  }
  /** Folds the adapter into the base module's weights; undefined where it cannot merge. */
  protected mergeAdapter?(name: string): void;
  /** Undoes mergeAdapter exactly (up to rounding). */
  protected unmergeAdapter?(name: string): void;

  baseLayer(): B {
    return this.base_layer;
  }
  mergedAdapters(): string[] {
    return [...this.merged];
  }
  get canMerge(): boolean {
    return this.mergeAdapter !== undefined || this.deltaWeight !== undefined;
  }

  protected baseForward(x: Tensor): Tensor {
    return (this.base_layer as unknown as { forward(x: Tensor): Tensor }).forward(x);
  }

  private requireDelta(x: Tensor, name: string): Tensor {
    if (this.delta) return this.delta(x, name);
    if (this.deltaWeight) return linear(x, this.deltaWeight(name));
    throw new Error(`${this.constructor.name} implements neither delta nor forwardWith`);
  }

  private requireAdapter(name: string): void {
    if (!this.adapterNames().includes(name)) throw new ArgumentError(`[peft] this layer has no adapter '${name}'.`, `Known adapters: ${this.adapterNames().join(', ')}.`);
  }

  /**
   * The module as the user loaded it, for the disabled path: the base output, unless an adapter's
   * initialisation rewrote the base weights (PiSSA, OLoRA) and gives that part back here.
   */
  protected loadedForward(x: Tensor): Tensor {
    return this.baseForward(x);
  }

  forward(x: Tensor): Tensor {
    if (this.disabled) return this.loadedForward(x);
    if (this.mixedBatch) return this.mixedForward(x, this.mixedBatch);
    const names = this.active.filter((n) => !this.merged.includes(n));
    for (const n of names) this.requireAdapter(n);
    if (names.length > 1 && !this.supportsMultipleActive) {
      throw new ArgumentError(`[peft] ${this.constructor.name} applies one adapter at a time; ${names.length} are active (${names.join(', ')}).`, 'Activate a single adapter with setAdapter(name).');
    }
    return names.length ? this.forwardWith(x, names) : this.baseForward(x);
  }

  /** Each row with its own adapter: summed deltas behind row masks, or whole outputs behind row masks. */
  private mixedForward(x: Tensor, rows: readonly string[]): Tensor {
    const groups = [...new Set(rows)].filter((n) => this.adapterNames().includes(n));
    if (this.delta || this.deltaWeight) {
      let y = this.baseForward(x);
      for (const name of groups) {
        const d = this.requireDelta(x, name);
        y = y.add(d.mul(rowMask(rows, name, d.ndim)));
      }
      return y;
    }
    const base = this.baseForward(x);
    let y = base.mul(
      rowMask(
        rows.map((n) => (groups.includes(n) ? '' : '__base__')),
        '__base__',
        base.ndim,
      ),
    );
    for (const name of groups) {
      const out = this.forwardWith(x, [name]);
      y = y.add(out.mul(rowMask(rows, name, out.ndim)));
    }
    return y;
  }

  merge(names: readonly string[]): void {
    if (!this.canMerge) throw new ArgumentError(`[peft] ${this.constructor.name} cannot be merged into the base weights.`, 'Use the adapter unmerged.');
    noGrad(() => {
      for (const name of names) {
        if (this.merged.includes(name)) continue;
        this.requireAdapter(name);
        if (this.mergeAdapter) this.mergeAdapter(name);
        else this.addToBaseWeight(this.deltaWeight!(name), 1);
        this.merged.push(name);
      }
    });
  }

  unmerge(): void {
    noGrad(() => {
      while (this.merged.length) {
        const name = this.merged.pop()!;
        if (this.unmergeAdapter) this.unmergeAdapter(name);
        else this.addToBaseWeight(this.deltaWeight!(name), -1);
      }
    });
  }

  private addToBaseWeight(deltaOutIn: Tensor, sign: 1 | -1): void {
    const base = this.base_layer as unknown as Module;
    if (!(base instanceof Linear || base instanceof Conv1D)) throw new ArgumentError(`[peft] ${this.constructor.name} merges into Linear or Conv1D layers only.`, 'Use the adapter unmerged.');
    const W = weightOutIn(base);
    setWeightOutIn(base, sign > 0 ? W.add(deltaOutIn) : W.sub(deltaOutIn));
  }

  deleteAdapter(name: string): void {
    if (this.merged.includes(name)) throw new ArgumentError(`[peft] adapter '${name}' is merged; unmerge before deleting it.`, 'Call unmerge() first.');
    this.removeAdapter(name);
    this.active = this.active.filter((a) => a !== name);
  }
}

export function isTunerLayer(m: Module): m is TunerLayer {
  return m instanceof TunerLayer;
}

/** The module a target stands for: its base layer when an earlier adapter already wrapped it. */
export function unwrapTarget(m: Module): Module {
  return isTunerLayer(m) ? m.baseLayer() : m;
}

/**
 * PEFT's fan_in_fan_out: the targets store their weight [in, out] (GPT-2's Conv1D). Read beneath
 * any earlier adapter's wrapper, so a second adapter on the same layers sees the same layout.
 */
export function targetsStoreInOut(targets: readonly (readonly [string, Module])[]): boolean {
  return targets.some(([, m]) => unwrapTarget(m) instanceof Conv1D);
}
