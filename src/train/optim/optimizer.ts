import { ArgumentError } from '../../errors.js';
import type { Tensor } from '../../tensor/index.js';

/** What a checkpoint keeps of an optimiser: its step count and per-parameter state buffers. */
export interface OptimizerState {
  step: number;
  /** Buffer name -> one Float32Array per parameter (in parameter order). */
  buffers: Record<string, Float32Array[]>;
}

/** Updates parameters in place from their .grad; parameters without a gradient are skipped. */
export abstract class Optimizer {
  step = 0;
  /** Per-parameter multipliers of lr (parameter groups with their own learning rate, as DePT's). */
  readonly lrScales: number[];
  constructor(
    readonly params: Tensor[],
    public lr: number,
    lrScales?: number[],
  ) {
    if (!(lr >= 0)) throw new ArgumentError(`[optimizer] learning rate ${lr} must be >= 0.`, 'Pass a non-negative learning rate.');
    if (lrScales && (lrScales.length !== params.length || lrScales.some((s) => !(s >= 0))))
      throw new ArgumentError('[optimizer] lrScales needs one non-negative multiplier per parameter.', 'Pass one scale per parameter, or none.');
    this.lrScales = lrScales ?? params.map(() => 1);
  }
  abstract update(): void;
  abstract state(): OptimizerState;
  abstract loadState(state: OptimizerState): void;
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }
}

/** The parameter's storage as a writable Float32Array view. */
export function paramData(p: Tensor): Float32Array {
  return (p.data as Float32Array).subarray(p.offset, p.offset + p.size);
}

export function checkState(name: string, state: OptimizerState, params: Tensor[], buffers: string[]): void {
  for (const b of buffers) {
    const list = state.buffers[b];
    if (!list || list.length !== params.length || list.some((x, i) => x.length !== params[i].size)) {
      throw new ArgumentError(`[${name}] the saved optimizer state does not fit these parameters (buffer '${b}').`, 'Resume with the same model, adapter config and trainable parameters.');
    }
  }
}
