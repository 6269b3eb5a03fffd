import { newcombePairedInterval, normalQuantile, pairedTable, wilsonInterval } from '../eval/index.js';
import type { CompareSettings, Job, JobResult } from './jobs.js';

const Z95 = normalQuantile(0.975);

/**
 * A mean over a seeds x items table with an interval that counts both sources of variance.
 *
 * The table y[s][i] (seed s, item i; every seed scores the same items) is read as a crossed
 * random-effects model y = mu + a_s + b_i + e_si. The grand mean's variance is
 *   Var = sigma_seed^2 / S + sigma_item^2 / n + sigma_resid^2 / (S n),
 * estimated without bias from the two-way ANOVA mean squares as
 *   Var = (MS_seed + MS_item - MS_resid) / (S n)
 * (E[MS_seed] = sigma_e^2 + n sigma_seed^2, E[MS_item] = sigma_e^2 + S sigma_item^2,
 * E[MS_resid] = sigma_e^2), floored at MS_resid / (S n) when sampling makes it smaller. With one
 * seed it is the usual item standard error. The interval is mean +- 1.96 SE (normal; with 3
 * seeds the seed term's own uncertainty is not widened by a t quantile — say so where reported).
 */
export interface SeedItemMean {
  mean: number;
  se: number;
  ci95: [number, number];
  seeds: number;
  items: number;
  /** Standard deviation of the per-seed means: the seed-to-seed spread. */
  seedSd: number;
  /** The two parts of the variance, for reading which dominates. */
  seedVariance: number;
  itemVariance: number;
}

export function seedItemMean(table: readonly (readonly number[])[]): SeedItemMean {
  const S = table.length,
    n = table[0]?.length ?? 0;
  if (S === 0 || n === 0 || table.some((row) => row.length !== n)) throw new RangeError('seedItemMean needs a non-empty seeds x items table with equal rows');
  let grand = 0;
  const seedMeans = table.map((row) => row.reduce((a, b) => a + b, 0) / n);
  const itemMeans = Array.from({ length: n }, (_, i) => table.reduce((a, row) => a + row[i], 0) / S);
  for (const m of seedMeans) grand += m / S;
  const ssSeed = n * seedMeans.reduce((a, m) => a + (m - grand) ** 2, 0);
  const ssItem = S * itemMeans.reduce((a, m) => a + (m - grand) ** 2, 0);
  let ssTotal = 0;
  for (const row of table) for (const y of row) ssTotal += (y - grand) ** 2;
  const ssResid = Math.max(0, ssTotal - ssSeed - ssItem);
  const msSeed = S > 1 ? ssSeed / (S - 1) : 0;
  const msItem = n > 1 ? ssItem / (n - 1) : 0;
  const msResid = S > 1 && n > 1 ? ssResid / ((S - 1) * (n - 1)) : 0;
  const variance = S === 1 ? msItem / n : Math.max(msSeed + msItem - msResid, msResid) / (S * n);
  const se = Math.sqrt(variance);
  const seedSd = S > 1 ? Math.sqrt(seedMeans.reduce((a, m) => a + (m - grand) ** 2, 0) / (S - 1)) : 0;
  return {
    mean: grand,
    se,
    ci95: [grand - Z95 * se, grand + Z95 * se],
    seeds: S,
    items: n,
    seedSd,
    seedVariance: S > 1 ? Math.max(0, (msSeed - msResid) / n) / S : 0,
    itemVariance: Math.max(0, (msItem - (S > 1 ? msResid : 0)) / S) / n,
  };
}

/**
 * How many independent items the table is worth: S n shrunk by the design effect (the crossed
 * variance over the variance S n independent draws would have). With one seed, or when the
 * table has no spread to read a design effect from, it is the number of items n.
 */
function effectiveItems(m: SeedItemMean, independentVariance: number): number {
  const { seeds: S, items: n } = m;
  if (S === 1 || !(independentVariance > 0) || !(m.se > 0)) return n;
  return Math.min(S * n, Math.max(1, (S * n * independentVariance) / (m.se * m.se)));
}

/**
 * Accuracy over a seeds x items table of 0/1 outcomes. The mean, SE and variance parts are
 * seedItemMean's; the interval is Wilson's score interval at the effective number of items, so
 * it stays inside [0, 1] and keeps its width at 0% or 100% (with one seed: exactly `eval`'s).
 */
export function seedItemProportion(table: readonly (readonly number[])[]): SeedItemMean {
  const m = seedItemMean(table);
  const nEff = effectiveItems(m, (m.mean * (1 - m.mean)) / (m.seeds * m.items));
  return { ...m, ci95: wilsonInterval(m.mean * nEff, nEff) };
}

/**
 * The paired change b - a over two seeds x items tables of 0/1 outcomes (seed s with seed s; item
 * by item). Newcombe's paired score interval on the pooled 2x2 table scaled to the effective number
 * of items, so a change is never a zero-width interval and never leaves [-1, 1] (with one seed:
 * exactly `eval`'s).
 */
export function seedItemPairedChange(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): SeedItemMean {
  const differences = tableDifference(b, a);
  const m = seedItemMean(differences);
  const S = differences.length,
    n = m.items;
  const pooled = { both: 0, onlyA: 0, onlyB: 0, neither: 0 };
  for (let s = 0; s < S; s++) {
    const t = pairedTable(
      a[s].map((v) => v === 1),
      b[s].map((v) => v === 1),
    );
    pooled.both += t.both;
    pooled.onlyA += t.onlyA;
    pooled.onlyB += t.onlyB;
    pooled.neither += t.neither;
  }
  const discordant = (pooled.onlyA + pooled.onlyB) / (S * n);
  const nEff = effectiveItems(m, (discordant - m.mean * m.mean) / (S * n));
  const scale = nEff / (S * n);
  return {
    ...m,
    ci95: newcombePairedInterval({ both: pooled.both * scale, onlyA: pooled.onlyA * scale, onlyB: pooled.onlyB * scale, neither: pooled.neither * scale }),
  };
}

/** Element-wise a - b over two seeds x items tables (seed s of one paired with seed s of the other). */
export function tableDifference(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number[][] {
  const S = Math.min(a.length, b.length);
  return Array.from({ length: S }, (_, s) => a[s].map((v, i) => v - b[s][i]));
}

/** A base model scored once, repeated as a table for pairing with seeded methods. */
export function repeatRow(row: readonly number[], seeds: number): number[][] {
  return Array.from({ length: seeds }, () => [...row]);
}

/** One method at one training size, over its seeds, on one task. */
export interface LeaderboardRow {
  method: string;
  size: number;
  seeds: number;
  accuracy: SeedItemMean;
  /** Paired with the base model on the same items. */
  changeFromBase: SeedItemMean;
  /** Paired with the best method at this size (seed s with seed s); null for the best itself. */
  changeFromBest: SeedItemMean | null;
  /** The change from the best has an interval that holds 0. */
  tiedWithBest: boolean;
  trainableParameters: number;
  trainSeconds: number;
  peakRssMb: number;
  heldoutBitsPerByte: number;
  /** Held-out text bits per byte minus the base's: the cost elsewhere. */
  costBitsPerByte: number;
  /** ICL: examples in the prompt (mean over seeds). */
  shots?: number;
}

export interface TaskLeaderboard {
  task: string;
  items: number;
  base: { accuracy: SeedItemMean; heldoutBitsPerByte: number };
  /** Sorted by size, then accuracy (best first). */
  rows: LeaderboardRow[];
  failures: { job: Job; error: string }[];
}

export interface CompareResults {
  schema: 'peft-ts.compare/1';
  createdAt: string;
  settings: CompareSettings;
  seeds: number;
  sizes: number[];
  intervalMethod: string;
  tasks: TaskLeaderboard[];
}

export const INTERVAL_METHOD =
  "mean over seeds and items; SE from a crossed seeds x items random-effects model, Var = (MS_seed + MS_item - MS_resid) / (S n) (two-way ANOVA mean squares), so seed-to-seed and item-to-item variance both count; 95% intervals are Wilson's score interval (accuracy) and Newcombe's paired score interval (changes, paired item by item and seed s with seed s) at the effective number of items S n / design effect, where the design effect is that variance over the variance of S n independent items; with one seed they are eval's intervals";

const average = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const correctTable = (results: readonly JobResult[]) => results.map((r) => r.items.map((i) => i.correct));

/** Builds each task's leaderboard from finished jobs (failed jobs listed, not counted). */
export function leaderboards(results: readonly JobResult[], failures: readonly { job: Job; error: string }[], settings: CompareSettings, seeds: number, sizes: number[]): CompareResults {
  const tasks = [...new Set([...results.map((r) => r.job.task), ...failures.map((f) => f.job.task)])];
  return {
    schema: 'peft-ts.compare/1',
    createdAt: new Date().toISOString(),
    settings,
    seeds,
    sizes,
    intervalMethod: INTERVAL_METHOD,
    tasks: tasks.map((task) => {
      const of = results.filter((r) => r.job.task === task);
      const base = of.find((r) => r.job.kind === 'base');
      const taskFailures = failures.filter((f) => f.job.task === task).map((f) => ({ job: f.job, error: f.error }));
      if (!base) return { task, items: 0, base: { accuracy: seedItemMean([[0]]), heldoutBitsPerByte: NaN }, rows: [], failures: taskFailures };
      const ids = base.items.map((i) => i.id);
      const groups = new Map<string, JobResult[]>();
      for (const r of of) {
        if (r.job.kind === 'base') continue;
        if (r.items.map((i) => i.id).join('\n') !== ids.join('\n')) throw new RangeError(`job ${r.key} scored other items than the base`);
        const k = `${r.job.method}\u0000${r.job.size}`;
        groups.set(k, [...(groups.get(k) ?? []), r]);
      }
      const baseRow = base.items.map((i) => i.correct);
      const rows: LeaderboardRow[] = [...groups.values()].map((rs) => {
        rs.sort((a, b) => a.job.seed - b.job.seed);
        const table = correctTable(rs);
        return {
          method: rs[0].job.method,
          size: rs[0].job.size,
          seeds: rs.length,
          accuracy: seedItemProportion(table),
          changeFromBase: seedItemPairedChange(repeatRow(baseRow, rs.length), table),
          changeFromBest: null,
          tiedWithBest: false,
          trainableParameters: rs[0].trainableParameters,
          trainSeconds: average(rs.map((r) => r.trainSeconds)),
          peakRssMb: Math.max(...rs.map((r) => r.peakRssMb)),
          heldoutBitsPerByte: average(rs.map((r) => r.heldoutBitsPerByte)),
          costBitsPerByte: average(rs.map((r) => r.heldoutBitsPerByte)) - base.heldoutBitsPerByte,
          ...(rs[0].shots !== undefined ? { shots: average(rs.map((r) => r.shots!)) } : {}),
        };
      });
      // ICL trains nothing, so it competes at every size, beside the methods trained on that many examples.
      const icl = rows.find((r) => r.method === 'icl');
      const resultsOf = (row: LeaderboardRow) => groups.get(`${row.method}\u0000${row.method === 'icl' ? 0 : row.size}`)!.sort((a, b) => a.job.seed - b.job.seed);
      const sizesHere = [...new Set(rows.filter((r) => r !== icl).map((r) => r.size))].sort((a, b) => (a || Infinity) - (b || Infinity));
      const ranked: LeaderboardRow[] = [];
      for (const size of sizesHere.length ? sizesHere : [0]) {
        const here = [...rows.filter((r) => r !== icl && r.size === size), ...(icl ? [{ ...icl, size }] : [])].sort((a, b) => b.accuracy.mean - a.accuracy.mean);
        const bestTable = correctTable(resultsOf(here[0]));
        for (const row of here.slice(1)) {
          row.changeFromBest = seedItemPairedChange(bestTable, correctTable(resultsOf(row)));
          row.tiedWithBest = row.changeFromBest.ci95[0] <= 0 && row.changeFromBest.ci95[1] >= 0;
        }
        ranked.push(...here);
      }
      return { task, items: ids.length, base: { accuracy: seedItemProportion([baseRow]), heldoutBitsPerByte: base.heldoutBitsPerByte }, rows: ranked, failures: taskFailures };
    }),
  };
}
