/**
 * The statistics of "Adding Error Bars to Evals" (Miller, 2024): every score is a mean over
 * items, reported with its standard error; a change between two models on the same items is a
 * paired difference with its own, usually much smaller, standard error.
 */
import { ArgumentError } from '../errors.js';
import { Generator } from '../tensor/index.js';

export const Z95 = 1.959963984540054;

export interface MeanWithError {
  mean: number;
  se: number;
  ci95: [number, number];
  n: number;
}

function check(values: readonly number[], what: string): void {
  if (values.length === 0) throw new ArgumentError(`[stats] ${what} needs at least one value.`, 'Evaluate at least one item.');
}

export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample variance (n - 1 in the denominator); 0 for a single value. */
export function variance(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  return values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1);
}

/** Mean and standard error sqrt(s^2 / n), with the normal 95% interval. */
export function meanWithError(values: readonly number[]): MeanWithError {
  check(values, 'a mean');
  const m = mean(values),
    se = Math.sqrt(variance(values) / values.length);
  return { mean: m, se, ci95: [m - Z95 * se, m + Z95 * se], n: values.length };
}

/**
 * Cluster-robust standard error of the mean (items in a cluster share a source, e.g. passages
 * of one speech): SE^2 = sum_c (sum_{i in c} (x_i - mean))^2 / n^2, as in Miller (2024) eq. 4.
 */
export function clusteredMean(values: readonly number[], clusters: readonly string[]): MeanWithError {
  check(values, 'a clustered mean');
  if (clusters.length !== values.length) throw new ArgumentError(`[stats] ${values.length} values but ${clusters.length} cluster labels.`, 'Give every item a cluster.');
  const m = mean(values),
    n = values.length;
  const sums = new Map<string, number>();
  values.forEach((v, i) => sums.set(clusters[i], (sums.get(clusters[i]) ?? 0) + (v - m)));
  const se = Math.sqrt([...sums.values()].reduce((s, r) => s + r * r, 0)) / n;
  return { mean: m, se, ci95: [m - Z95 * se, m + Z95 * se], n };
}

export function correlation(a: readonly number[], b: readonly number[]): number {
  const ma = mean(a),
    mb = mean(b);
  let sab = 0,
    saa = 0,
    sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa === 0 || sbb === 0 ? NaN : sab / Math.sqrt(saa * sbb);
}

export interface PairedDelta extends MeanWithError {
  /** Correlation of the two models' per-item scores: high correlation is why pairing shrinks the SE. */
  correlation: number;
  /** The unpaired SE, for comparison. */
  unpairedSe: number;
  /** Clustered SE of the difference when clusters were given. */
  clusteredSe?: number;
}

/** The change from `base` to `adapted` on the same items: mean of per-item differences, its SE and 95% interval. */
export function pairedDelta(base: readonly number[], adapted: readonly number[], clusters?: readonly string[]): PairedDelta {
  if (base.length !== adapted.length) throw new ArgumentError(`[stats] paired scores need equal lengths, got ${base.length} and ${adapted.length}.`, 'Score both models on the same items.');
  const diff = adapted.map((v, i) => v - base[i]);
  const d = meanWithError(diff);
  return {
    ...d,
    correlation: correlation(base, adapted),
    unpairedSe: Math.sqrt(variance(base) / base.length + variance(adapted) / adapted.length),
    ...(clusters ? { clusteredSe: clusteredMean(diff, clusters).se } : {}),
  };
}

/** How an interval was made, named in results.json and the report. */
export const INTERVAL_METHODS = {
  normal: 'normal (mean +- 1.96 SE)',
  wilson: 'Wilson score',
  newcombe: "Newcombe's hybrid score for paired proportions (1998, method 10)",
  bootstrap: 'percentile bootstrap',
} as const;
export type IntervalMethod = keyof typeof INTERVAL_METHODS;

/**
 * Wilson's score interval for a proportion: stays inside [0, 1] and keeps its width at 0 or n
 * successes, where the normal (Wald) interval collapses or overshoots (Newcombe 1998a).
 */
export function wilsonInterval(successes: number, n: number, z = Z95): [number, number] {
  if (!(n > 0 && successes >= 0 && successes <= n))
    throw new ArgumentError(`[stats] a proportion needs 0 <= successes <= n and n > 0, got ${successes} of ${n}.`, 'Count successes among the items scored.');
  const p = successes / n,
    z2 = z * z;
  const centre = p + z2 / (2 * n),
    half = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, (centre - half) / (1 + z2 / n)), Math.min(1, (centre + half) / (1 + z2 / n))];
}

/**
 * The change in a proportion between two models scored on the same items: Newcombe's hybrid
 * score interval for paired data (Statistics in Medicine 17:2635, 1998, method 10). It combines
 * each model's Wilson interval with the correlation of the pairs (phi, with Newcombe's
 * continuity adjustment), so with no discordant items it is still an honest, non-zero width.
 * Items: `both` right under both, `onlyA` right only under A, `onlyB` only under B, `neither`.
 * The interval is for p_B - p_A.
 */
export function newcombePairedInterval(table: { both: number; onlyA: number; onlyB: number; neither: number }, z = Z95): [number, number] {
  const { both, onlyA, onlyB, neither } = table;
  const n = both + onlyA + onlyB + neither;
  const pA = (both + onlyA) / n,
    pB = (both + onlyB) / n;
  const [lA, uA] = wilsonInterval(both + onlyA, n, z),
    [lB, uB] = wilsonInterval(both + onlyB, n, z);
  const margins = (both + onlyA) * (onlyB + neither) * (both + onlyB) * (onlyA + neither);
  const cross = both * neither - onlyA * onlyB;
  const phi = margins === 0 ? 0 : cross > n / 2 ? (cross - n / 2) / Math.sqrt(margins) : cross >= 0 ? 0 : cross / Math.sqrt(margins);
  const d = pB - pA;
  const lower = d - Math.sqrt(Math.max(0, (pB - lB) ** 2 - 2 * phi * (pB - lB) * (uA - pA) + (uA - pA) ** 2));
  const upper = d + Math.sqrt(Math.max(0, (uB - pB) ** 2 - 2 * phi * (uB - pB) * (pA - lA) + (pA - lA) ** 2));
  return [Math.max(-1, lower), Math.min(1, upper)];
}

/** The 2x2 table of paired binary outcomes: how many items each model got right alone or with the other. */
export function pairedTable(a: readonly boolean[], b: readonly boolean[]): { both: number; onlyA: number; onlyB: number; neither: number } {
  const t = { both: 0, onlyA: 0, onlyB: 0, neither: 0 };
  a.forEach((x, i) => {
    if (x && b[i]) t.both++;
    else if (x) t.onlyA++;
    else if (b[i]) t.onlyB++;
    else t.neither++;
  });
  return t;
}

/** Percentile bootstrap interval of a statistic over items (seeded). */
export function bootstrapInterval(values: readonly number[], statistic: (sample: number[]) => number = mean, options: { resamples?: number; seed?: number; level?: number } = {}): [number, number] {
  check(values, 'a bootstrap');
  const resamples = options.resamples ?? 2000,
    level = options.level ?? 0.95;
  const gen = new Generator(options.seed ?? 0);
  const stats = Array.from({ length: resamples }, () => statistic(values.map(() => values[Math.floor(gen.uniform() * values.length)]))).sort((a, b) => a - b);
  const lo = Math.floor(((1 - level) / 2) * resamples),
    hi = Math.ceil(((1 + level) / 2) * resamples) - 1;
  return [stats[lo], stats[hi]];
}

function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/**
 * McNemar's exact test for paired accuracy: among items where exactly one model is right
 * (b: only base right, c: only adapted right), is the split unlike Binomial(b + c, 1/2)?
 * Two-sided p = min(1, 2 P(X <= min(b, c))).
 */
export function mcnemarExact(baseCorrect: readonly boolean[], adaptedCorrect: readonly boolean[]): { b: number; c: number; pValue: number } {
  const { onlyA: b, onlyB: c } = pairedTable(baseCorrect, adaptedCorrect);
  const n = b + c,
    k = Math.min(b, c);
  if (n === 0) return { b, c, pValue: 1 };
  let tail = 0;
  for (let i = 0; i <= k; i++) tail += Math.exp(logChoose(n, i) - n * Math.LN2);
  return { b, c, pValue: Math.min(1, 2 * tail) };
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, ~1e-9 relative). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new ArgumentError(`[stats] quantile ${p} must be in (0, 1).`, 'Pass a probability.');
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5,
    r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * Items needed to detect a true paired difference `delta` with a two-sided test at `alpha`
 * with probability `power`, when per-item differences have standard deviation sdDiff:
 * n = ((z_{1-alpha/2} + z_power) * sdDiff / delta)^2, rounded up.
 */
export function sampleSizeForDelta(delta: number, sdDiff: number, options: { alpha?: number; power?: number } = {}): number {
  if (!(delta !== 0 && sdDiff > 0)) throw new ArgumentError('[stats] power analysis needs a non-zero delta and a positive SD of differences.', 'Estimate sdDiff from a pilot evaluation.');
  const z = normalQuantile(1 - (options.alpha ?? 0.05) / 2) + normalQuantile(options.power ?? 0.8);
  return Math.ceil(((z * sdDiff) / delta) ** 2);
}
