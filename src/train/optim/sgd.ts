import type { Tensor } from '../../tensor/index.js';
import { checkState, Optimizer, paramData, type OptimizerState } from './optimizer.js';

export interface SGDOptions {
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
  lrScales?: number[];
}

/** SGD with momentum as torch.optim.SGD: b = mu*b + g (b = g at the first step), p -= lr*b. */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private buf: Float32Array[] | null = null;

  constructor(params: Tensor[], options: SGDOptions = {}) {
    super(params, options.lr ?? 1e-2, options.lrScales);
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
  }

  update(): void {
    this.step++;
    const first = this.buf === null;
    if (this.momentum !== 0 && !this.buf) this.buf = this.params.map((p) => new Float32Array(p.size));
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const w = paramData(p),
        g = p.grad.contiguousData();
      const b = this.buf?.[i];
      for (let j = 0; j < w.length; j++) {
        let d = g[j] + this.weightDecay * w[j];
        if (b) {
          b[j] = first ? d : this.momentum * b[j] + d;
          d = this.nesterov ? d + this.momentum * b[j] : b[j];
        }
        w[j] -= this.lr * this.lrScales[i] * d;
      }
    });
  }

  state(): OptimizerState {
    return { step: this.step, buffers: this.buf ? { momentum_buffer: this.buf.map((x) => Float32Array.from(x)) } : {} };
  }

  loadState(state: OptimizerState): void {
    this.step = state.step;
    if (state.buffers.momentum_buffer) {
      checkState('sgd', state, this.params, ['momentum_buffer']);
      this.buf = state.buffers.momentum_buffer.map((x) => Float32Array.from(x));
    }
  }
}
