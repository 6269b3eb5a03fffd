import { Module } from '../nn/index.js';
import type { Tensor } from '../tensor/index.js';

/**
 * What shared PEFT code (injection, saving, merging, adapter switching) may ask of a layer
 * a method has wrapped. Methods answer for themselves; shared code never asks which method.
 */
export abstract class TunerLayer extends Module {
  /** Adapters whose output is added in forward (several: their outputs are summed). */
  active: string[] = [];
  /** Set by PeftModel.disableAdapters: forward is the base layer's alone. */
  disabled = false;
  /** Per-row adapter names for a mixed batch ('__base__' for none), set for one forward. */
  mixedBatch: readonly string[] | null = null;

  abstract baseLayer(): Module;
  abstract adapterNames(): string[];
  abstract deleteAdapter(name: string): void;
  /** The adapter's tensors under their names relative to this layer, as HF PEFT saves them. */
  abstract adapterState(name: string): Map<string, Tensor>;
  abstract merge(names: readonly string[]): void;
  abstract unmerge(): void;
  abstract mergedAdapters(): string[];
}

export function isTunerLayer(m: Module): m is TunerLayer {
  return m instanceof TunerLayer;
}
