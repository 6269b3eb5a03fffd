import { ConfigError } from '../../../errors.js';
import { Linear, type Module, type ParameterDict } from '../../../nn/index.js';
import { defaultGenerator, linear, noGrad, Tensor } from '../../../tensor/index.js';
import type { Infer } from '../../config.js';
import { patternValue } from '../../targets.js';
import { TunerLayer } from '../../tuner-layer.js';
import type { lycorisFields } from './config.js';

type LycorisConfigFields = Infer<typeof lycorisFields>;

/** How one adapter's update behaves in training (HF PEFT's LycorisLayer bookkeeping). */
export interface LycorisSettings {
  scaling: number;
  rankDropout: number;
  moduleDropout: number;
  /** Rescale the kept rows by 1 / (fraction kept) after rank dropout (LoHa always; LoKr's rank_dropout_scale). */
  rankDropoutScale: boolean;
}

/**
 * A Linear with LyCORIS-style adapters (LoHa, LoKr): each builds a full weight update
 * `updateWeight(name)` [out, in] from its factors, added as x @ dW^T. In training, PEFT's
 * module_dropout skips an adapter for the whole forward and rank_dropout zeroes random rows of dW.
 */
export abstract class LycorisLayer extends TunerLayer<Linear> {
  readonly effect = 'adds a weight delta';
  readonly settings = new Map<string, LycorisSettings>();

  /** The scaled update dW [out, in] of adapter `name`, differentiable in its factors. */
  protected abstract updateWeight(name: string): Tensor;

  adapterNames(): string[] {
    return [...this.settings.keys()];
  }

  /** The ParameterDicts holding this method's factors, under PEFT's names (hada_w1_a, lokr_w1, ...). */
  protected abstract factors(): Record<string, ParameterDict>;

  protected removeAdapter(name: string): void {
    this.settings.delete(name);
    for (const dict of Object.values(this.factors())) dict.items.delete(name);
  }

  override deltaWeight(name: string): Tensor {
    return noGrad(() => this.updateWeight(name));
  }

  protected override delta(x: Tensor, name: string): Tensor {
    const s = this.settings.get(name)!;
    const training = this.training;
    if (training && s.moduleDropout > 0 && !(defaultGenerator.uniform() > s.moduleDropout)) {
      return Tensor.zeros([...x.shape.slice(0, -1), this.base_layer.outFeatures]);
    }
    let weight = this.updateWeight(name);
    if (training && s.rankDropout > 0) weight = weight.mul(rowKeepMask(weight.shape[0], s.rankDropout, s.rankDropoutScale));
    return linear(x, weight);
  }

  override adapterState(name: string): Map<string, Tensor> {
    const state = new Map<string, Tensor>();
    for (const [key, dict] of Object.entries(this.factors())) if (dict.items.has(name)) state.set(key, dict.items.get(name)!);
    return state;
  }
}

/** Rank dropout's mask [out, 1]: a row survives when rand > p; optionally divided by the kept fraction (all dropped gives zeros, where PEFT would divide by 0). */
function rowKeepMask(rows: number, p: number, rescale: boolean): Tensor {
  const keep = Float32Array.from({ length: rows }, () => (defaultGenerator.uniform() > p ? 1 : 0));
  const kept = keep.reduce((a, b) => a + b, 0);
  if (rescale && kept > 0)
    keep.forEach((v, i) => {
      keep[i] = v * (rows / kept);
    });
  return new Tensor(keep, [rows, 1]);
}

/** A module's rank and training settings: rank_pattern / alpha_pattern applied, scaling alpha / r. */
export function lycorisSettings(path: string, config: LycorisConfigFields, rankDropoutScale: boolean): { r: number; settings: LycorisSettings } {
  const r = patternValue(path, config.rank_pattern, config.r);
  const alpha = patternValue(path, config.alpha_pattern, config.alpha);
  return { r, settings: { scaling: alpha / r, rankDropout: config.rank_dropout, moduleDropout: config.module_dropout, rankDropoutScale } };
}

/** PEFT's LyCORIS layers wrap torch.nn.Linear (and convolutions); transformers' Conv1D is refused. */
export function requireLinear(module: Module, path: string, label: string, method: string): Linear {
  if (module instanceof Linear) return module;
  throw new ConfigError(`[${label}] '${path}' is a ${module.constructor.name}; ${method} adapts Linear layers only (HF PEFT refuses GPT-2's Conv1D too).`, {
    hint: "Target Linear layers (e.g. Llama's q_proj, v_proj), or use LoRA/IA3 on GPT-2.",
  });
}
