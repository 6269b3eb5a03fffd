import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { writeTextAtomic } from '../io/index.js';
import type { EvalDoc, EvalReport, ItemResult, MetricReport, TaskReport } from './harness.js';
import type { RunInfo } from './run-info.js';
import { INTERVAL_METHODS } from './stats.js';

/** The metric a task's headline change is read from. */
export function primaryMetric(task: TaskReport): string {
  return task.metrics.acc ? 'acc' : task.metrics.bits_per_byte ? 'bits_per_byte' : 'f1';
}

const pct = (m: string) => ['acc', 'acc_norm', 'exact_match', 'f1'].includes(m);
export function formatValue(metric: string, v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  return pct(metric) ? `${(100 * v).toFixed(1)}%` : v.toFixed(4);
}
function formatDelta(metric: string, v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  return pct(metric) ? `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)} pt` : `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;
}

/**
 * Whether a change is an improvement, read with the metric's direction (lower bits per byte is
 * better): called only when its 95% interval excludes zero, otherwise 'unclear'.
 */
export function changeDirection(change: { mean: number; ci95: readonly [number, number] }, higherIsBetter: boolean): 'better' | 'worse' | 'unclear' {
  const [lo, hi] = change.ci95;
  if (!(Number.isFinite(lo) && Number.isFinite(hi)) || (lo <= 0 && hi >= 0)) return 'unclear';
  return lo > 0 === higherIsBetter ? 'better' : 'worse';
}

const directionText = (direction: ReturnType<typeof changeDirection>) => (direction === 'unclear' ? 'no clear change' : direction);

/** Which interval each metric's values and changes carry, as a phrase ("acc: Wilson score; change: Newcombe's ..."). */
function intervalNote(task: TaskReport): string {
  return Object.entries(task.metrics)
    .map(([name, m]) => {
      const value = Object.values(m.values)[0]?.interval,
        delta = Object.values(m.deltas)[0]?.interval;
      return value ? `${name}: ${INTERVAL_METHODS[value]}${delta ? `; its change: ${INTERVAL_METHODS[delta]}` : ''}` : null;
    })
    .filter(Boolean)
    .join(' &middot; ');
}

/** Plain-text table of every task's metrics: base, each adapter, and the paired change with its interval. */
export function summaryText(report: EvalReport): string {
  const lines: string[] = [];
  for (const task of report.tasks) {
    lines.push(`${task.name} (${task.n} items, ${task.outputType})`);
    for (const [name, m] of Object.entries(task.metrics)) {
      const values = report.variants.map((v) => {
        const x = m.values[v];
        return `${v} ${formatValue(name, x.mean)}${Number.isFinite(x.ci95[0]) ? ` [${formatValue(name, x.ci95[0])}, ${formatValue(name, x.ci95[1])}]` : ''}`;
      });
      const deltas = Object.entries(m.deltas).map(
        ([a, d]) =>
          `delta(${a}) ${formatDelta(name, d.mean)} [${formatDelta(name, d.ci95[0])}, ${formatDelta(name, d.ci95[1])}] ${directionText(changeDirection(d, m.higherIsBetter))}${d.mcnemarP !== undefined ? `, McNemar p=${d.mcnemarP.toPrecision(2)}` : ''}`,
      );
      lines.push(`  ${name.padEnd(14)} ${[...values, ...deltas].join('   ')}`);
    }
  }
  const methods = [...new Set(report.tasks.flatMap((t) => Object.values(t.metrics).flatMap((m) => [...Object.values(m.values), ...Object.values(m.deltas)].map((x) => x.interval))))].filter(
    (x) => x !== undefined,
  );
  lines.push(`95% intervals: ${methods.map((m) => INTERVAL_METHODS[m]).join('; ')}`);
  return lines.join('\n');
}

export function chartJsSource(): string {
  const require = createRequire(import.meta.url);
  return readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.js'), 'utf8');
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function metricRows(task: TaskReport, variants: string[]): string {
  const cell = (name: string, m: MetricReport, v: string) => {
    const x = m.values[v];
    return `<td>${formatValue(name, x.mean)}${Number.isFinite(x.ci95[0]) ? `<br><small>[${formatValue(name, x.ci95[0])}, ${formatValue(name, x.ci95[1])}]</small>` : ''}</td>`;
  };
  const adapters = variants.slice(1);
  return Object.entries(task.metrics)
    .map(
      ([name, m]) =>
        `<tr><th>${name}${m.higherIsBetter ? ' &uarr;' : ' &darr;'}</th>${variants.map((v) => cell(name, m, v)).join('')}${adapters
          .map((a) => {
            const d = m.deltas[a];
            const direction = changeDirection(d, m.higherIsBetter);
            return `<td class="${direction}">${formatDelta(name, d.mean)} <small>${directionText(direction)}</small><br><small>[${formatDelta(name, d.ci95[0])}, ${formatDelta(name, d.ci95[1])}]${d.mcnemarP !== undefined ? ` p=${d.mcnemarP.toPrecision(2)}` : ''}</small></td>`;
          })
          .join('')}</tr>`,
    )
    .join('\n');
}

/** Adapter settings worth a glance (non-empty, not the base model's path); the full file is in results.json. */
function configSummary(config: Record<string, unknown> | null): string {
  if (!config) return 'no adapter_config.json';
  const skip = new Set(['peft_type', 'base_model_name_or_path', 'revision', 'inference_mode', 'auto_mapping']);
  return Object.entries(config)
    .filter(([k, v]) => !skip.has(k) && v !== null && v !== false && !(Array.isArray(v) && v.length === 0) && !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0))
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

function runHeader(run: RunInfo, report: EvalReport): string {
  const data = report.tasks.map((t) => `${t.name} (${t.n} items)`).join(', ');
  const adapters = run.adapters
    .map((a) => {
      const training = a.training ?? {};
      const trainedOn = training.data ?? (training.task ? `task ${String(training.task)}` : null);
      return `<tr><th>adapter ${escapeHtml(a.name)}</th><td><b>${escapeHtml(String(a.config?.peft_type ?? 'unknown method'))}</b> ${escapeHtml(configSummary(a.config))}<br><small>${escapeHtml(a.path)}</small></td></tr>
<tr><th>training of ${escapeHtml(a.name)}</th><td>${a.steps !== null ? `${a.steps} steps` : 'steps unknown (no trainer_state.json)'}${a.epochs !== null ? `, ${+a.epochs.toFixed(2)} epochs` : ''}${trainedOn ? `; data ${escapeHtml(String(trainedOn))}` : ''}${training.seed !== undefined ? `; seed ${escapeHtml(String(training.seed))}` : ''}${a.training ? ` <details><summary>all settings</summary><code>${escapeHtml(JSON.stringify(a.training))}</code></details>` : ''}</td></tr>`;
    })
    .join('\n');
  return `<section id="run"><h2>Run</h2><table class="meta">
<tr><th>model</th><td>${escapeHtml(run.model)}${run.modelType ? ` (${escapeHtml(run.modelType)})` : ''}</td></tr>
${adapters}
<tr><th>evaluation data</th><td>${escapeHtml(data)}${run.limit ? ` (first ${run.limit} items of each)` : ''}</td></tr>
<tr><th>seed</th><td>${run.seed}</td></tr>
<tr><th>peft-ts</th><td>${escapeHtml(run.peftTsVersion)}</td></tr>
<tr><th>date</th><td>${escapeHtml(run.date)}</td></tr>
</table></section>`;
}

function binCountTable(task: TaskReport, variants: string[]): string {
  const bins = task.reliability![variants[0]];
  return `<table class="bin-counts" id="bins-${escapeHtml(task.name)}"><tr><th>items per confidence bin</th>${bins.map((b) => `<th>${b.lower.toFixed(2)}-${b.upper.toFixed(2)}</th>`).join('')}</tr>
${variants.map((v) => `<tr><th>${escapeHtml(v)}</th>${task.reliability![v].map((b) => `<td>${b.count}</td>`).join('')}</tr>`).join('\n')}</table>`;
}

const EXAMPLES_SHOWN = 10;

/** Items the adapter turned from wrong to right and from right to wrong, a few of each with every model's answer. */
function flipSections(task: TaskReport, variants: string[], docs: Map<string, EvalDoc>, results: Map<string, ItemResult>): string {
  if (!task.flips) return '';
  return Object.entries(task.flips)
    .map(([adapter, flips]) =>
      (
        [
          ['fixed', 'wrong under base, right with', flips.fixed],
          ['broken', 'right under base, wrong with', flips.broken],
        ] as const
      )
        .map(([kind, phrase, ids]) => {
          const rows = ids
            .slice(0, EXAMPLES_SHOWN)
            .map((id) => {
              const doc = docs.get(`${task.name}\u0000${id}`)!;
              const answer = (v: string) => {
                const r = results.get(`${task.name}\u0000${id}\u0000${v}`)!;
                return `<td>${escapeHtml(r.prediction ?? '')}<br><small>p=${r.probs![r.pred!].toFixed(2)}</small></td>`;
              };
              // The start (e.g. sender and subject) and the end (the question) say most about an item.
              const prompt = doc.prompt.length > 400 ? `${doc.prompt.slice(0, 240)} [...] ${doc.prompt.slice(-160)}` : doc.prompt;
              return `<tr><td class="id">${escapeHtml(id)}</td><td><pre>${escapeHtml(prompt)}</pre></td><td>${escapeHtml(doc.target)}</td>${variants
                .filter((v) => v === variants[0] || v === adapter)
                .map(answer)
                .join('')}</tr>`;
            })
            .join('\n');
          return `<div class="flipped ${kind}" id="flips-${escapeHtml(task.name)}-${escapeHtml(adapter)}-${kind}"><h3>${kind === 'fixed' ? 'Fixed' : 'Broken'} by ${escapeHtml(adapter)}: ${ids.length} items ${phrase} ${escapeHtml(adapter)}${ids.length > EXAMPLES_SHOWN ? ` (first ${EXAMPLES_SHOWN} shown; all in items.jsonl)` : ''}</h3>
${ids.length ? `<table><tr><th>id</th><th>prompt</th><th>target</th><th>${escapeHtml(variants[0])}</th><th>${escapeHtml(adapter)}</th></tr>\n${rows}</table>` : ''}</div>`;
        })
        .join('\n'),
    )
    .join('\n');
}

/** The HTML page: run header, change chart, tables, reliability diagrams with bin counts, loss curves, flipped items; drawn with Chart.js (inlined: the page works offline). */
export function reportHtml(report: EvalReport, title: string, run?: RunInfo): string {
  const adapters = report.variants.slice(1);
  // One chart per unit, so a change in accuracy points and one in bits per byte are each readable.
  const deltas = report.tasks.flatMap((t) =>
    adapters.map((a) => {
      const m = primaryMetric(t),
        d = t.metrics[m].deltas[a];
      const scale = pct(m) ? 100 : 1;
      return {
        unit: pct(m) ? 'points' : 'bpb',
        label: `${t.name}: ${m}${adapters.length > 1 ? ` (${a})` : ''}`,
        mean: d.mean * scale,
        lo: d.ci95[0] * scale,
        hi: d.ci95[1] * scale,
        direction: changeDirection(d, t.metrics[m].higherIsBetter),
      };
    }),
  );
  const units = [...new Set(deltas.map((d) => d.unit))];
  const reliability = report.tasks.filter((t) => t.reliability).map((t) => ({ task: t.name, bins: t.reliability! }));
  const losses = (run?.adapters ?? []).filter((a) => a.loss.length > 0).map((a) => ({ name: a.name, loss: a.loss }));
  const data = JSON.stringify({ deltas, reliability, losses, variants: report.variants }).replace(/</g, '\\u003c');
  const docs = new Map(report.docs.map((d) => [`${d.task}\u0000${d.id}`, d]));
  const results = new Map(report.items.map((r) => [`${r.task}\u0000${r.id}\u0000${r.variant}`, r]));
  const tables = report.tasks
    .map(
      (t) => `<section><h2>${escapeHtml(t.name)}</h2><p>${escapeHtml(t.description)} &middot; ${t.n} items</p>
<table><tr><th>metric</th>${report.variants.map((v) => `<th>${escapeHtml(v)}</th>`).join('')}${adapters.map((a) => `<th>&Delta; ${escapeHtml(a)} (paired, 95% CI)</th>`).join('')}</tr>
${metricRows(t, report.variants)}</table><p><small>95% intervals: ${intervalNote(t)}</small></p>${t.reliability ? `<div class="chart"><canvas id="rel-${escapeHtml(t.name)}"></canvas></div>${binCountTable(t, report.variants)}` : ''}
${flipSections(t, report.variants, docs, results)}</section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;vertical-align:top}th:first-child{text-align:left}small{color:#666}.chart{height:300px;margin:1em 0}.chart.small{height:160px}
.better{background:#e6f4ea}.worse{background:#fce8e6}table.meta td{text-align:left}.flipped pre{white-space:pre-wrap;text-align:left;max-width:520px;margin:0;font-size:12px}.flipped td.id{text-align:left}.bin-counts td{font-size:12px}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
${run ? runHeader(run, report) : ''}
<p>Every model was scored on the same items in one run. Intervals are 95%; changes are paired per item, as in Miller (2024), "Adding Error Bars to Evals". Green is better and red is worse, by each metric's direction (&uarr; higher is better, &darr; lower is better), called only when the interval excludes zero; grey is no clear change.</p>
<section><h2>Change from base, with 95% intervals</h2>${units.map((u) => `<div class="chart small"><canvas id="deltas-${u}"></canvas></div>`).join('')}</section>
${losses.length ? '<section><h2>Training loss</h2><div class="chart"><canvas id="loss"></canvas></div></section>' : ''}
${tables}
<script>${chartJsSource()}</script>
<script>
const DATA = ${data};
const UNIT_TITLE = { points: 'change in percentage points (accuracy, F1, exact match; higher is better)', bpb: 'change in bits per byte (lower is better)' };
const SHADE = { better: ['rgba(46,160,67,0.3)', 'rgb(46,160,67)'], worse: ['rgba(214,39,40,0.3)', 'rgb(214,39,40)'], unclear: ['rgba(120,120,120,0.3)', 'rgb(120,120,120)'] };
const zeroLine = { color: (c) => (c.tick && c.tick.value === 0 ? '#222' : 'rgba(0,0,0,0.1)'), lineWidth: (c) => (c.tick && c.tick.value === 0 ? 2 : 1) };
for (const unit of [...new Set(DATA.deltas.map((d) => d.unit))]) {
  const rows = DATA.deltas.filter((d) => d.unit === unit);
  // Zero in the middle, so better and worse read at a glance.
  const reach = Math.max(...rows.flatMap((d) => [Math.abs(d.lo), Math.abs(d.hi), Math.abs(d.mean)]).filter(Number.isFinite)) * 1.1 || 1;
  new Chart(document.getElementById('deltas-' + unit), {
    data: { labels: rows.map((d) => d.label + ' (' + d.direction + ')'), datasets: [
      { type: 'bar', label: '95% interval', data: rows.map((d) => [d.lo, d.hi]), backgroundColor: rows.map((d) => SHADE[d.direction][0]) },
      { type: 'line', label: 'paired change', data: rows.map((d) => d.mean), showLine: false, pointRadius: 6, backgroundColor: rows.map((d) => SHADE[d.direction][1]), borderColor: rows.map((d) => SHADE[d.direction][1]) } ] },
    options: { indexAxis: 'y', maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } },
      scales: { x: { min: -reach, max: reach, grid: zeroLine, title: { display: true, text: UNIT_TITLE[unit] + ' - green better, red worse' } } } },
  });
}
const colors = ['rgba(150,150,150,0.6)', 'rgba(54,162,235,0.7)', 'rgba(255,159,64,0.7)', 'rgba(75,192,192,0.7)'];
for (const r of DATA.reliability) {
  const labels = r.bins[DATA.variants[0]].map((b) => ((b.lower + b.upper) / 2).toFixed(2));
  new Chart(document.getElementById('rel-' + r.task), {
    data: { labels, datasets: [
      ...DATA.variants.map((v, i) => ({ type: 'bar', label: v + ' accuracy', data: r.bins[v].map((b) => (b.count ? b.accuracy : null)), counts: r.bins[v].map((b) => b.count), backgroundColor: colors[i % colors.length] })),
      { type: 'line', label: 'perfect calibration', data: labels.map(Number), borderColor: '#d33', pointRadius: 0 } ] },
    options: { maintainAspectRatio: false, animation: false,
      plugins: { title: { display: true, text: 'Reliability diagram: ' + r.task + ' (items per bin in the table below)' },
        tooltip: { callbacks: { afterLabel: (c) => (c.dataset.counts ? c.dataset.counts[c.dataIndex] + ' items' : '') } } },
      scales: { x: { title: { display: true, text: 'confidence (15 bins)' } }, y: { min: 0, max: 1, title: { display: true, text: 'accuracy' } } } },
  });
}
if (DATA.losses.length) {
  new Chart(document.getElementById('loss'), {
    type: 'line',
    data: { datasets: DATA.losses.flatMap((a, i) => [
      { label: a.name + ' training loss', data: a.loss.map((p) => ({ x: p.step, y: p.loss })), borderColor: colors[(i + 1) % colors.length], pointRadius: 0, borderWidth: 1.5 },
      ...(a.loss.some((p) => p.evalLoss !== undefined) ? [{ label: a.name + ' validation loss', data: a.loss.filter((p) => p.evalLoss !== undefined).map((p) => ({ x: p.step, y: p.evalLoss })), borderColor: '#222', showLine: false, pointRadius: 4 }] : []) ]) },
    options: { maintainAspectRatio: false, animation: false, parsing: false,
      scales: { x: { type: 'linear', title: { display: true, text: 'optimizer step' } }, y: { title: { display: true, text: 'loss (nats per target token)' } } } },
  });
}
</script>
</body></html>
`;
}

/**
 * One line per item with what it asked, the target and every model's answer and scores, like
 * lm-evaluation-harness' --log_samples (fields: task, doc_id, prompt, target, choices, models).
 */
export function sampleLog(report: EvalReport): string {
  const results = new Map<string, Record<string, unknown>>();
  for (const { task, id, variant, cluster: _cluster, ...scores } of report.items) {
    const key = `${task}\u0000${id}`;
    if (!results.has(key)) results.set(key, {});
    results.get(key)![variant] = scores;
  }
  return (
    report.docs
      .map((d) =>
        JSON.stringify({
          task: d.task,
          doc_id: d.id,
          prompt: d.prompt,
          target: d.target,
          ...(d.choices ? { choices: d.choices } : {}),
          ...(d.cluster ? { cluster: d.cluster } : {}),
          models: results.get(`${d.task}\u0000${d.id}`),
        }),
      )
      .join('\n') + '\n'
  );
}

/** Writes results.json (the run and every metric), items.jsonl (every item with every model's answer) and index.html. */
export function writeReport(report: EvalReport, dir: string, options: { title?: string; run?: RunInfo } = {}): void {
  mkdirSync(dir, { recursive: true });
  writeTextAtomic(join(dir, 'results.json'), `${JSON.stringify({ ...(options.run ? { run: options.run } : {}), variants: report.variants, tasks: report.tasks }, null, 2)}\n`);
  writeTextAtomic(join(dir, 'items.jsonl'), sampleLog(report));
  writeTextAtomic(join(dir, 'index.html'), reportHtml(report, options.title ?? 'peft-ts evaluation', options.run));
}
