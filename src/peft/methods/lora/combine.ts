import { ArgumentError } from '../../../errors.js';
import { Generator } from '../../../tensor/index.js';
import type { PeftModel } from '../../peft-model.js';
import type { LoraConfig } from './config.js';
import { LoraLayer } from './layer.js';
import { lowRankSvd } from './linalg.js';

export type CombinationType = 'svd' | 'linear' | 'cat' | 'ties' | 'dare_linear' | 'dare_ties' | 'magnitude_prune';

export interface WeightedAdapterOptions {
  /** Rank of the result for 'svd' (default: the largest source rank). */
  svdRank?: number;
  /** Fraction of entries kept by ties, dare and magnitude_prune. */
  density?: number;
  majoritySignMethod?: 'total' | 'frequency';
  /** Seeds dare's random pruning. */
  seed?: number;
}

type Vec = Float64Array;

/** Keeps the int(density * n) largest-magnitude entries (PEFT's magnitude prune). */
function pruneMagnitude(x: Vec, density: number): Vec {
  const k = Math.floor(density * x.length);
  const order = Array.from(x.keys()).sort((a, b) => Math.abs(x[b]) - Math.abs(x[a]));
  const out = new Float64Array(x.length);
  for (let i = 0; i < k; i++) out[order[i]] = x[order[i]];
  return out;
}

/** DARE: keeps each entry with probability `density` and rescales the kept ones by 1/density. */
function pruneRandom(x: Vec, density: number, gen: Generator): Vec {
  return x.map((v) => (gen.uniform() < density ? v / density : 0));
}

function weightedSum(tensors: Vec[], weights: number[]): Vec {
  const out = new Float64Array(tensors[0].length);
  tensors.forEach((t, i) => {
    for (let j = 0; j < t.length; j++) out[j] += weights[i] * t[j];
  });
  return out;
}

/** TIES' sign election and disjoint mean over already-pruned tensors. */
function disjointMerge(pruned: Vec[], weights: number[], method: 'total' | 'frequency'): Vec {
  const n = pruned[0].length;
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let vote = 0;
    for (const t of pruned) vote += method === 'total' ? t[j] : Math.sign(t[j]);
    const majority = vote >= 0 ? 1 : -1;
    let sum = 0,
      count = 0;
    pruned.forEach((t, i) => {
      if (Math.sign(t[j]) === majority) {
        sum += weights[i] * t[j];
        count++;
      }
    });
    out[j] = sum / Math.max(count, 1);
  }
  return out;
}

function combineFactor(type: CombinationType, tensors: Vec[], weights: number[], o: Required<WeightedAdapterOptions>, gen: Generator): Vec {
  switch (type) {
    case 'linear':
      return weightedSum(tensors, weights);
    case 'magnitude_prune':
      return weightedSum(
        tensors.map((t) => pruneMagnitude(t, o.density)),
        weights,
      );
    case 'dare_linear':
      return weightedSum(
        tensors.map((t) => pruneRandom(t, o.density, gen)),
        weights,
      );
    case 'ties':
      return disjointMerge(
        tensors.map((t) => pruneMagnitude(t, o.density)),
        weights,
        o.majoritySignMethod,
      );
    case 'dare_ties':
      return disjointMerge(
        tensors.map((t) => pruneRandom(t, o.density, gen)),
        weights,
        o.majoritySignMethod,
      );
    default:
      throw new ArgumentError(`[add_weighted_adapter] '${type}' does not combine factors.`, 'Internal: cat and svd are handled separately.');
  }
}

/**
 * HF PEFT's add_weighted_adapter: a new LoRA adapter from weighted existing ones. Only 'cat'
 * and 'svd' reproduce sum_i w_i * dW_i; the others combine the A and B factors separately
 * (weights sqrt|w_i s_i|, the sign on A), as PEFT does. The result has lora_alpha = r.
 */
export function addWeightedAdapter(peft: PeftModel, adapters: string[], weights: number[], newName: string, type: CombinationType, options: WeightedAdapterOptions = {}): void {
  if (adapters.length === 0 || adapters.length !== weights.length)
    throw new ArgumentError(`[add_weighted_adapter] ${adapters.length} adapters and ${weights.length} weights.`, 'Pass one weight per adapter.');
  const configs = adapters.map((a) => peft.config(a) as LoraConfig);
  if (configs.some((c) => c.peft_type !== 'LORA' || c.use_dora))
    throw new ArgumentError('[add_weighted_adapter] only plain LoRA adapters can be combined (not DoRA).', 'Combine LoRA adapters without use_dora.');
  const ranks = configs.map((c) => c.r);
  const o: Required<WeightedAdapterOptions> = {
    svdRank: options.svdRank ?? Math.max(...ranks),
    density: options.density ?? 1,
    majoritySignMethod: options.majoritySignMethod ?? 'total',
    seed: options.seed ?? 0,
  };
  if (!['svd', 'cat'].includes(type) && new Set(ranks).size > 1)
    throw new ArgumentError(`[add_weighted_adapter] '${type}' needs adapters of equal rank, got ${ranks.join(', ')}.`, "Use 'cat' or 'svd' for different ranks.");
  if (!(o.density > 0 && o.density <= 1)) throw new ArgumentError(`[add_weighted_adapter] density ${o.density} must be in (0, 1].`, 'Pass the fraction of entries to keep.');
  const newRank = type === 'cat' ? ranks.reduce((a, b) => a + b, 0) : type === 'svd' ? o.svdRank : ranks[0];
  const targets = configs.map((c) => c.target_modules);
  if (!targets.every(Array.isArray)) throw new ArgumentError('[add_weighted_adapter] adapters with regex target_modules cannot be combined here.', 'Use lists of module names.');
  const previous = peft.activeAdapters;
  peft.addAdapter(newName, {
    ...configs[0],
    r: newRank,
    lora_alpha: newRank,
    rank_pattern: {},
    alpha_pattern: {},
    use_rslora: false,
    use_dora: false,
    init_lora_weights: true,
    target_modules: [...new Set(targets.flat() as string[])],
    layers_to_transform: null,
    exclude_modules: null,
  } as unknown as Record<string, unknown>);
  const gen = new Generator(o.seed);
  for (const [, layer] of peft.tunerLayers()) {
    if (!(layer instanceof LoraLayer) || !layer.adapterNames().includes(newName)) continue;
    const present = adapters.map((a, i) => ({ a, w: weights[i] })).filter(({ a }) => layer.adapterNames().includes(a));
    const A = (a: string) => Float64Array.from(layer.lora_A.items.get(a)!.weight.contiguousData());
    const B = (a: string) => Float64Array.from(layer.lora_B.items.get(a)!.weight.contiguousData());
    const rankOf = (a: string) => layer.lora_A.items.get(a)!.weight.shape[0];
    const inF = layer.inFeatures,
      outF = layer.outFeatures;
    const newA = new Float64Array(newRank * inF),
      newB = new Float64Array(outF * newRank);
    if (type === 'cat' || type === 'svd') {
      // Stack [w_i s_i A_i] rows and [B_i] columns: B_cat @ A_cat = sum_i w_i s_i B_i A_i.
      const total = present.reduce((n, { a }) => n + rankOf(a), 0);
      const catA = new Float64Array(total * inF),
        catB = new Float64Array(outF * total);
      let row = 0;
      for (const { a, w } of present) {
        const r = rankOf(a),
          scale = w * layer.scaling.get(a)!,
          ai = A(a),
          bi = B(a);
        for (let k = 0; k < r; k++) for (let j = 0; j < inF; j++) catA[(row + k) * inF + j] = scale * ai[k * inF + j];
        for (let i = 0; i < outF; i++) for (let k = 0; k < r; k++) catB[i * total + row + k] = bi[i * r + k];
        row += r;
      }
      if (type === 'cat') {
        for (let k = 0; k < total; k++) for (let j = 0; j < inF; j++) newA[k * inF + j] = catA[k * inF + j];
        for (let i = 0; i < outF; i++) for (let k = 0; k < total; k++) newB[i * newRank + k] = catB[i * total + k];
      } else {
        const k = Math.min(newRank, total);
        const { u, sigma, v } = lowRankSvd(catB, catA, outF, total, inF, k);
        for (let c = 0; c < k; c++) {
          for (let j = 0; j < inF; j++) newA[c * inF + j] = v[j * k + c];
          for (let i = 0; i < outF; i++) newB[i * newRank + c] = u[i * k + c] * sigma[c];
        }
      }
    } else {
      const ws = present.map(({ a, w }) => w * layer.scaling.get(a)!);
      const aWeights = ws.map((x) => Math.sign(x) * Math.sqrt(Math.abs(x)));
      const bWeights = ws.map((x) => Math.sqrt(Math.abs(x)));
      newA.set(
        combineFactor(
          type,
          present.map(({ a }) => A(a)),
          aWeights,
          o,
          gen,
        ),
      );
      newB.set(
        combineFactor(
          type,
          present.map(({ a }) => B(a)),
          bWeights,
          o,
          gen,
        ),
      );
    }
    layer.lora_A.items.get(newName)!.weight.contiguousData().set(newA);
    layer.lora_B.items.get(newName)!.weight.contiguousData().set(newB);
  }
  peft.setAdapter(previous.length ? previous : [newName]);
}
