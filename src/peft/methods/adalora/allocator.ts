import { ConfigError } from '../../../errors.js';
import { noGrad, Tensor } from '../../../tensor/index.js';
import type { HookState, TrainingHooks } from '../../method.js';
import type { AdaloraConfig } from './config.js';
import { eye } from '../oft/rotation.js';
import type { AdaloraLayer } from './layer.js';

/** The budget schedule's settings (AdaLoraConfig's fields). */
export type BudgetSchedule = Pick<AdaloraConfig, 'tinit' | 'tfinal' | 'deltaT'> & { total_step: number };

/**
 * PEFT's RankAllocator.budget_schedule: the total rank budget at `step` and whether to re-mask.
 * Warm-up keeps the initial budget; then it falls cubically to the target, reaching it at
 * total_step - tfinal; the final phase keeps the target.
 */
export function budgetAt(step: number, initBudget: number, targetBudget: number, s: BudgetSchedule): { budget: number; mask: boolean } {
  if (step <= s.tinit) return { budget: initBudget, mask: false };
  if (step > s.total_step - s.tfinal) return { budget: targetBudget, mask: true };
  const coefficient = 1 - (step - s.tinit) / (s.total_step - s.tfinal - s.tinit);
  return { budget: Math.trunc((initBudget - targetBudget) * coefficient ** 3 + targetBudget), mask: step % s.deltaT === 0 };
}

type Part = 'lora_A' | 'lora_E' | 'lora_B';
const PARTS: readonly Part[] = ['lora_A', 'lora_E', 'lora_B'];

interface Scores {
  ipt: Float32Array;
  unc: Float32Array;
}

/**
 * AdaLoRA's rank allocation for one adapter (PEFT's RankAllocator and update_and_allocate): after
 * each optimiser step it smooths every adapter weight's sensitivity |w * grad| and its uncertainty,
 * scores each triplet (A row, E value, B column) by the mean of sensitivity x uncertainty, and
 * zeroes the E values of the lowest-scoring triplets so that the ranks left fit the budget.
 */
export class RankAllocator {
  private scores = new Map<string, Scores>();
  readonly initBudget: number;
  readonly targetBudget: number;
  private readonly layers: readonly [string, AdaloraLayer][];

  constructor(
    layers: readonly [string, AdaloraLayer][],
    private readonly adapter: string,
    private readonly config: AdaloraConfig,
  ) {
    // PEFT orders modules by name; the order matters to nothing but readability here.
    this.layers = [...layers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.initBudget = this.layers.reduce((n, [, l]) => n + l.lora_A.items.get(adapter)!.shape[0], 0);
    this.targetBudget = config.target_r * this.layers.length;
  }

  private schedule(): BudgetSchedule {
    return { tinit: this.config.tinit, tfinal: this.config.tfinal, deltaT: this.config.deltaT, total_step: this.config.total_step! };
  }

  /** The per-step entry point (PEFT's update_and_allocate), after optimizer.step() and before zero_grad(). */
  step(globalStep: number): void {
    const end = this.config.total_step! - this.config.tfinal;
    if (globalStep < end) {
      this.updateScores();
      const { budget, mask } = budgetAt(globalStep, this.initBudget, this.targetBudget, this.schedule());
      if (mask) this.config.rank_pattern = this.maskToBudget(budget);
    } else if (globalStep === end) {
      this.config.rank_pattern = this.maskToBudget(budgetAt(globalStep, this.initBudget, this.targetBudget, this.schedule()).budget);
      this.scores.clear();
    } else if (this.config.rank_pattern) {
      this.applyPattern(this.config.rank_pattern);
    }
  }

  /** The smoothed scores and the allocation, for resuming a run exactly. */
  saveState(): HookState {
    const tensors = new Map<string, Tensor>();
    for (const [key, s] of this.scores) {
      tensors.set(`${key}.ipt`, new Tensor(Float32Array.from(s.ipt), [s.ipt.length]));
      tensors.set(`${key}.unc`, new Tensor(Float32Array.from(s.unc), [s.unc.length]));
    }
    return { tensors, meta: { rank_pattern: this.config.rank_pattern } };
  }

  loadState(state: HookState): void {
    this.scores.clear();
    for (const [key, t] of state.tensors) {
      if (!key.endsWith('.ipt')) continue;
      const base = key.slice(0, -4);
      this.scores.set(base, { ipt: Float32Array.from(t.contiguousData()), unc: Float32Array.from(state.tensors.get(`${base}.unc`)!.contiguousData()) });
    }
    const pattern = (state.meta.rank_pattern ?? null) as Record<string, boolean[]> | null;
    this.config.rank_pattern = pattern;
    if (pattern) this.applyPattern(pattern);
  }

  private tensor(layer: AdaloraLayer, part: Part): Tensor {
    return layer[part].items.get(this.adapter)!;
  }

  private updateScores(): void {
    const { beta1, beta2 } = this.config;
    for (const [path, layer] of this.layers) {
      for (const part of PARTS) {
        const p = this.tensor(layer, part);
        const key = `${path}.${part}`;
        let s = this.scores.get(key);
        if (!s) {
          s = { ipt: new Float32Array(p.size), unc: new Float32Array(p.size) };
          this.scores.set(key, s);
        }
        const w = p.contiguousData(),
          g = p.grad ? p.grad.contiguousData() : new Float32Array(p.size);
        for (let i = 0; i < p.size; i++) {
          const ipt = Math.abs(w[i] * g[i]);
          s.ipt[i] = beta1 * s.ipt[i] + (1 - beta1) * ipt;
          s.unc[i] = beta2 * s.unc[i] + (1 - beta2) * Math.abs(ipt - s.ipt[i]);
        }
      }
    }
  }

  /** Each triplet's score: E's element score plus the row mean of A's and the column mean of B's. */
  private tripletScores(path: string, layer: AdaloraLayer): Float64Array {
    const score = (part: Part) => {
      const s = this.scores.get(`${path}.${part}`);
      const n = this.tensor(layer, part).size;
      return Float64Array.from({ length: n }, (_, i) => (s ? s.ipt[i] * s.unc[i] : 0));
    };
    const [r, inF] = this.tensor(layer, 'lora_A').shape;
    const out = this.tensor(layer, 'lora_B').shape[0];
    const a = score('lora_A'),
      e = score('lora_E'),
      b = score('lora_B');
    return Float64Array.from({ length: r }, (_, k) => {
      let rowA = 0,
        colB = 0;
      for (let j = 0; j < inF; j++) rowA += a[k * inF + j];
      for (let i = 0; i < out; i++) colB += b[i * r + k];
      return e[k] + rowA / inF + colB / out;
    });
  }

  /** Zeroes E where the triplet score is at or below the (init - budget)-th smallest score; returns the rank pattern. */
  private maskToBudget(budget: number): Record<string, boolean[]> {
    const triplets = this.layers.map(([path, layer]) => [path, this.tripletScores(path, layer)] as const);
    const k = this.initBudget - budget;
    const all = Float64Array.from(triplets.flatMap(([, s]) => [...s])).sort();
    const threshold = k > 0 ? all[k - 1] : -Infinity;
    const pattern = Object.fromEntries(triplets.map(([path, s]) => [`${path}.lora_E`, [...s].map((v) => v > threshold)]));
    this.applyPattern(pattern);
    return pattern;
  }

  /** PEFT's mask_using_rank_pattern: E is zero wherever the pattern says false. */
  private applyPattern(pattern: Record<string, boolean[]>): void {
    noGrad(() => {
      for (const [path, layer] of this.layers) {
        const keep = pattern[`${path}.lora_E`];
        if (!keep) continue;
        const E = this.tensor(layer, 'lora_E');
        const d = E.data as Float32Array;
        keep.forEach((k, i) => {
          if (!k) d[E.offset + i] = 0;
        });
        layer.rankMask.set(this.adapter, keep);
      }
    });
  }
}

/** PEFT's orthogonality regulariser: the mean over A and B of |A A^T - I|_F and |B^T B - I|_F, times orth_reg_weight. */
export function orthogonalRegulariser(layers: readonly [string, AdaloraLayer][], adapter: string, weight: number): Tensor {
  const terms = layers.flatMap(([, l]) => {
    const A = l.lora_A.items.get(adapter)!,
      B = l.lora_B.items.get(adapter)!;
    return [A.matmul(A.T), B.T.matmul(B)].map((cov) => cov.sub(eye(cov.shape[0])).pow(2).sum().sqrt());
  });
  return terms
    .reduce((a, b) => a.add(b))
    .div(terms.length)
    .mul(weight);
}

/** AdaLoRA's training hooks: the regulariser in the loss, and the rank allocation after each step. */
export function adaloraTrainingHooks(layers: readonly [string, AdaloraLayer][], adapter: string, config: AdaloraConfig): TrainingHooks {
  if (!(config.orth_reg_weight > 0))
    throw new ConfigError(`[adalora] orth_reg_weight must be > 0 to train, got ${config.orth_reg_weight}.`, {
      hint: 'PEFT refuses to train AdaLoRA without its orthogonality regulariser; its default is 0.5.',
    });
  const allocator = new RankAllocator(layers, adapter, config);
  return {
    extraLoss: () => orthogonalRegulariser(layers, adapter, config.orth_reg_weight),
    afterStep: (step) => allocator.step(step),
    saveState: () => allocator.saveState(),
    loadState: (state) => allocator.loadState(state),
  };
}
