import { ArgumentError } from '../../errors.js';
import type { Tensor } from '../../tensor/index.js';
import { checkState, Optimizer, paramData, type OptimizerState } from './optimizer.js';

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  lrScales?: number[];
}

/**
 * AdamW with PyTorch's semantics (torch.optim.AdamW): decoupled weight decay p -= lr*wd*p,
 * then m, v moments with bias correction, p -= lr * m_hat / (sqrt(v_hat) + eps).
 */
export class AdamW extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private m: Float32Array[];
  private v: Float32Array[];

  constructor(params: Tensor[], options: AdamWOptions = {}) {
    super(params, options.lr ?? 1e-3, options.lrScales);
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    if (!(this.beta1 >= 0 && this.beta1 < 1 && this.beta2 >= 0 && this.beta2 < 1)) throw new ArgumentError(`[adamw] betas (${this.beta1}, ${this.beta2}) must be in [0, 1).`, 'Use e.g. [0.9, 0.999].');
    this.m = params.map((p) => new Float32Array(p.size));
    this.v = params.map((p) => new Float32Array(p.size));
  }

  update(): void {
    this.step++;
    const { beta1, beta2, eps, weightDecay } = this;
    const c1 = 1 - beta1 ** this.step,
      c2 = 1 - beta2 ** this.step;
    const c2Sqrt = Math.sqrt(c2);
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const lr = this.lr * this.lrScales[i],
        stepSize = lr / c1;
      const w = paramData(p),
        g = p.grad.contiguousData(),
        m = this.m[i],
        v = this.v[i];
      const decay = 1 - lr * weightDecay;
      for (let j = 0; j < w.length; j++) {
        m[j] = beta1 * m[j] + (1 - beta1) * g[j];
        v[j] = beta2 * v[j] + (1 - beta2) * g[j] * g[j];
        w[j] = w[j] * decay - (stepSize * m[j]) / (Math.sqrt(v[j]) / c2Sqrt + eps);
      }
    });
  }

  state(): OptimizerState {
    return { step: this.step, buffers: { exp_avg: this.m.map((x) => Float32Array.from(x)), exp_avg_sq: this.v.map((x) => Float32Array.from(x)) } };
  }

  loadState(state: OptimizerState): void {
    checkState('adamw', state, this.params, ['exp_avg', 'exp_avg_sq']);
    this.step = state.step;
    this.m = state.buffers.exp_avg.map((x) => Float32Array.from(x));
    this.v = state.buffers.exp_avg_sq.map((x) => Float32Array.from(x));
  }
}
