import { brierScore, expectedCalibrationError, type ReliabilityBin } from './calibration.js';
import { argmax, argmaxNormalised, exactMatch, softmax, tokenF1 } from './metrics.js';
import type { Scorer } from './scorer.js';
import {
  bootstrapInterval,
  mcnemarExact,
  meanWithError,
  newcombePairedInterval,
  pairedDelta,
  pairedTable,
  sampleSizeForDelta,
  clusteredMean,
  wilsonInterval,
  type IntervalMethod,
  type MeanWithError,
  type PairedDelta,
} from './stats.js';
import type { EvalItem, EvalTask } from './tasks.js';

/** A model configuration to evaluate: 'base' (adapters off) or an adapter (set); `run` evaluates under it. */
export interface Variant {
  name: string;
  run<T>(fn: () => T): T;
}

export interface ItemResult {
  task: string;
  id: string;
  variant: string;
  cluster?: string;
  gold?: number;
  pred?: number;
  prediction?: string;
  correct?: number;
  correctNorm?: number;
  probs?: number[];
  logliks?: number[];
  brier?: number;
  generated?: string;
  exactMatch?: number;
  f1?: number;
  nll?: number;
  tokens?: number;
  bytes?: number;
  bitsPerByte?: number;
}

export interface MetricReport {
  /** Per variant: the value (mean over items, or corpus-level) with its standard error and interval when it has one. */
  values: Record<string, MeanWithError & { clusteredSe?: number; interval?: IntervalMethod }>;
  /** Per adapter: the paired change from base. */
  deltas: Record<string, PairedDelta & { mcnemarP?: number; bootstrapCi95?: [number, number]; interval?: IntervalMethod }>;
  higherIsBetter: boolean;
}

/** What an item asked and expected, logged beside every model's answer (like lm-eval's --log_samples). */
export interface EvalDoc {
  task: string;
  id: string;
  prompt: string;
  target: string;
  choices?: string[];
  cluster?: string;
}

export interface TaskReport {
  name: string;
  description: string;
  outputType: string;
  n: number;
  metrics: Record<string, MetricReport>;
  reliability?: Record<string, ReliabilityBin[]>;
  /** Items a paired evaluation needs to detect the observed accuracy change (alpha 0.05, power 0.8). */
  power?: Record<string, { observedDelta: number; sdDifference: number; itemsNeeded: number | null; itemsFor1Point: number | null }>;
  /** Per adapter: ids of the items it turned from wrong to right (fixed) and from right to wrong (broken). */
  flips?: Record<string, { fixed: string[]; broken: string[] }>;
}

export interface EvalReport {
  variants: string[];
  tasks: TaskReport[];
  items: ItemResult[];
  docs: EvalDoc[];
}

/** How far scoring has got: items of one task done under one variant. */
export interface EvalProgress {
  task: string;
  variant: string;
  done: number;
  total: number;
}

function scoreItems(task: EvalTask, items: EvalItem[], variant: string, scorer: Scorer, progress: (done: number, total: number) => void): ItemResult[] {
  const base = (it: EvalItem): ItemResult => ({ task: task.name, id: it.id, variant, cluster: it.cluster });
  const each = (score: (it: EvalItem) => ItemResult) =>
    items.map((it, i) => {
      const r = score(it);
      progress(i + 1, items.length);
      return r;
    });
  if (task.outputType === 'loglikelihood_rolling') {
    return each((it) => {
      const { nll, tokens } = scorer.rollingNll(it.text!);
      const bytes = Buffer.byteLength(it.text!, 'utf8');
      return { ...base(it), nll, tokens, bytes, bitsPerByte: nll / (Math.LN2 * bytes) };
    });
  }
  if (task.outputType === 'generate_until') {
    return each((it) => {
      const generated = scorer.generateUntil(it.context, task.until, task.maxGenTokens);
      return { ...base(it), generated, exactMatch: exactMatch(generated, it.answers!), f1: tokenF1(generated, it.answers!) };
    });
  }
  const scored = scorer.choiceLogLikelihoods(
    items.map((it) => ({ context: it.context, continuations: it.choices! })),
    (done, total) => progress(Math.round((done / total) * items.length), items.length),
  );
  return items.map((it, i) => {
    const { logliks } = scored[i];
    const probs = softmax(logliks);
    const pred = argmax(logliks);
    return {
      ...base(it),
      gold: it.gold,
      pred,
      prediction: it.choices![pred],
      logliks,
      probs,
      correct: pred === it.gold ? 1 : 0,
      correctNorm: argmaxNormalised(logliks, it.choices!) === it.gold ? 1 : 0,
      brier: brierScore([probs], [it.gold!]),
    };
  });
}

/**
 * A metric that is a mean over items, per variant and as each adapter's paired change. A
 * proportion (every item scores 0 or 1) gets Wilson intervals and, for the change, Newcombe's
 * paired interval, which stay honest at small n and with no discordant items; others the normal interval.
 */
function metric(byVariant: Map<string, ItemResult[]>, variants: string[], value: (r: ItemResult) => number, higherIsBetter: boolean, extra: { mcnemar?: boolean } = {}): MetricReport {
  const report: MetricReport = { values: {}, deltas: {}, higherIsBetter };
  const [baseName, ...adapters] = variants;
  const proportion = variants.every((v) => byVariant.get(v)!.every((r) => value(r) === 0 || value(r) === 1));
  for (const v of variants) {
    const rows = byVariant.get(v)!;
    const xs = rows.map(value);
    const clusters = rows.map((r) => r.cluster);
    const m = meanWithError(xs);
    report.values[v] = {
      ...m,
      ...(proportion ? { ci95: wilsonInterval(xs.filter((x) => x === 1).length, xs.length), interval: 'wilson' as const } : { interval: 'normal' as const }),
      ...(clusters.every(Boolean) ? { clusteredSe: clusteredMean(xs, clusters as string[]).se } : {}),
    };
  }
  for (const a of adapters) {
    const base = byVariant.get(baseName)!,
      adapted = byVariant.get(a)!;
    const clusters = base.map((r) => r.cluster);
    const delta = pairedDelta(base.map(value), adapted.map(value), clusters.every(Boolean) ? (clusters as string[]) : undefined);
    const table = pairedTable(
      base.map((r) => value(r) === 1),
      adapted.map((r) => value(r) === 1),
    );
    report.deltas[a] = {
      ...delta,
      ...(proportion ? { ci95: newcombePairedInterval(table), interval: 'newcombe' as const } : { interval: 'normal' as const }),
      ...(extra.mcnemar
        ? {
            mcnemarP: mcnemarExact(
              base.map((r) => r.correct === 1),
              adapted.map((r) => r.correct === 1),
            ).pValue,
          }
        : {}),
    };
  }
  return report;
}

/** ECE is not a mean over items: its interval and the change's interval come from a paired bootstrap. */
function eceMetric(byVariant: Map<string, ItemResult[]>, variants: string[], seed: number): MetricReport {
  const ece = (rows: ItemResult[]) =>
    expectedCalibrationError(
      rows.map((r) => r.probs![r.pred!]),
      rows.map((r) => r.correct === 1),
    ).ece;
  const report: MetricReport = { values: {}, deltas: {}, higherIsBetter: false };
  const n = byVariant.get(variants[0])!.length;
  const indices = Array.from({ length: n }, (_, i) => i);
  for (const v of variants) {
    const rows = byVariant.get(v)!;
    const value = ece(rows);
    const ci = bootstrapInterval(indices, (sample) => ece(sample.map((i) => rows[i])), { seed, resamples: 500 });
    report.values[v] = { mean: value, se: (ci[1] - ci[0]) / (2 * 1.959964), ci95: ci, n, interval: 'bootstrap' };
  }
  const [baseName, ...adapters] = variants;
  for (const a of adapters) {
    const base = byVariant.get(baseName)!,
      adapted = byVariant.get(a)!;
    const diff = ece(adapted) - ece(base);
    const ci = bootstrapInterval(indices, (sample) => ece(sample.map((i) => adapted[i])) - ece(sample.map((i) => base[i])), { seed, resamples: 500 });
    const se = (ci[1] - ci[0]) / (2 * 1.959964);
    report.deltas[a] = { mean: diff, se, ci95: ci, n, correlation: NaN, unpairedSe: NaN, bootstrapCi95: ci, interval: 'bootstrap' };
  }
  return report;
}

/** Corpus-level perplexity and bits per byte; their change is paired over documents (per-document bits per byte). */
function rollingMetrics(byVariant: Map<string, ItemResult[]>, variants: string[]): Record<string, MetricReport> {
  const bpb = metric(byVariant, variants, (r) => r.bitsPerByte!, false);
  const ppl: MetricReport = { values: {}, deltas: {}, higherIsBetter: false };
  for (const v of variants) {
    const rows = byVariant.get(v)!;
    const nll = rows.reduce((s, r) => s + r.nll!, 0),
      tokens = rows.reduce((s, r) => s + r.tokens!, 0),
      bytes = rows.reduce((s, r) => s + r.bytes!, 0);
    ppl.values[v] = { mean: Math.exp(nll / tokens), se: NaN, ci95: [NaN, NaN], n: rows.length };
    bpb.values[v] = { ...bpb.values[v], mean: nll / (Math.LN2 * bytes) };
  }
  // Perplexity's change has no per-item form; its interval is read from bits per byte's.
  for (const a of variants.slice(1)) {
    ppl.deltas[a] = { mean: ppl.values[a].mean - ppl.values[variants[0]].mean, se: NaN, ci95: [NaN, NaN], n: ppl.values[a].n, correlation: NaN, unpairedSe: NaN };
  }
  return { perplexity: ppl, bits_per_byte: bpb };
}

/**
 * Scores every variant on the same items of every task and reports each metric per variant and
 * each adapter's paired change from base (SE, 95% interval, correlation; McNemar for accuracy).
 */
export function evaluate(scorer: Scorer, variants: Variant[], tasks: EvalTask[], options: { limit?: number; seed?: number; onProgress?: (p: EvalProgress) => void } = {}): EvalReport {
  const names = variants.map((v) => v.name);
  const allItems: ItemResult[] = [];
  const docs: EvalDoc[] = [];
  const reports = tasks.map((task): TaskReport => {
    const items = options.limit ? task.items.slice(0, options.limit) : task.items;
    const byVariant = new Map<string, ItemResult[]>();
    for (const v of variants) {
      const progress = (done: number, total: number) => options.onProgress?.({ task: task.name, variant: v.name, done, total });
      progress(0, items.length);
      byVariant.set(
        v.name,
        v.run(() => scoreItems(task, items, v.name, scorer, progress)),
      );
    }
    for (const rows of byVariant.values()) allItems.push(...rows);
    docs.push(...items.map((it) => docOf(task, it)));
    const report: TaskReport = { name: task.name, description: task.description, outputType: task.outputType, n: items.length, metrics: {} };
    if (task.outputType === 'loglikelihood_rolling') report.metrics = rollingMetrics(byVariant, names);
    else if (task.outputType === 'generate_until') {
      report.metrics.exact_match = metric(byVariant, names, (r) => r.exactMatch!, true);
      report.metrics.f1 = metric(byVariant, names, (r) => r.f1!, true);
    } else {
      report.metrics.acc = metric(byVariant, names, (r) => r.correct!, true, { mcnemar: true });
      if (task.outputType === 'multiple_choice') report.metrics.acc_norm = metric(byVariant, names, (r) => r.correctNorm!, true);
      report.metrics.brier = metric(byVariant, names, (r) => r.brier!, false);
      report.metrics.ece = eceMetric(byVariant, names, options.seed ?? 0);
      report.reliability = Object.fromEntries(
        names.map((v) => {
          const rows = byVariant.get(v)!;
          return [
            v,
            expectedCalibrationError(
              rows.map((r) => r.probs![r.pred!]),
              rows.map((r) => r.correct === 1),
            ).bins,
          ];
        }),
      );
      report.flips = Object.fromEntries(
        names.slice(1).map((a) => {
          const base = byVariant.get(names[0])!,
            adapted = byVariant.get(a)!;
          return [a, { fixed: base.filter((r, i) => !r.correct && adapted[i].correct).map((r) => r.id), broken: base.filter((r, i) => r.correct && !adapted[i].correct).map((r) => r.id) }];
        }),
      );
      report.power = Object.fromEntries(
        Object.entries(report.metrics.acc.deltas).map(([a, d]) => {
          const sd = d.se * Math.sqrt(d.n);
          return [
            a,
            {
              observedDelta: d.mean,
              sdDifference: sd,
              itemsNeeded: d.mean !== 0 && sd > 0 ? sampleSizeForDelta(d.mean, sd) : null,
              itemsFor1Point: sd > 0 ? sampleSizeForDelta(0.01, sd) : null,
            },
          ];
        }),
      );
    }
    return report;
  });
  return { variants: names, tasks: reports, items: allItems, docs };
}

function docOf(task: EvalTask, it: EvalItem): EvalDoc {
  const target = it.choices ? it.choices[it.gold!] : it.answers ? it.answers[0] : '';
  return { task: task.name, id: it.id, prompt: it.text ?? it.context, target, ...(it.choices ? { choices: it.choices } : {}), ...(it.cluster ? { cluster: it.cluster } : {}) };
}
