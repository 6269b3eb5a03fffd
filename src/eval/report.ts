import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { writeTextAtomic } from '../io/index.js';
import type { EvalReport, MetricReport, TaskReport } from './harness.js';

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

/** Plain-text table of every task's metrics: base, each adapter, and the paired change with its interval. */
export function summaryText(report: EvalReport): string {
  const lines: string[] = [];
  for (const task of report.tasks) {
    lines.push(`${task.name} (${task.n} items, ${task.outputType})`);
    for (const [name, m] of Object.entries(task.metrics)) {
      const values = report.variants.map((v) => {
        const x = m.values[v];
        return `${v} ${formatValue(name, x.mean)}${Number.isFinite(x.se) ? ` [${formatValue(name, x.ci95[0])}, ${formatValue(name, x.ci95[1])}]` : ''}`;
      });
      const deltas = Object.entries(m.deltas).map(([a, d]) => `delta(${a}) ${formatDelta(name, d.mean)} [${formatDelta(name, d.ci95[0])}, ${formatDelta(name, d.ci95[1])}]${d.mcnemarP !== undefined ? `, McNemar p=${d.mcnemarP.toPrecision(2)}` : ''}`);
      lines.push(`  ${name.padEnd(14)} ${[...values, ...deltas].join('   ')}`);
    }
  }
  return lines.join('\n');
}

export function chartJsSource(): string {
  const require = createRequire(import.meta.url);
  return readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.js'), 'utf8');
}

function metricRows(task: TaskReport, variants: string[]): string {
  const cell = (name: string, m: MetricReport, v: string) => {
    const x = m.values[v];
    return `<td>${formatValue(name, x.mean)}${Number.isFinite(x.se) ? `<br><small>[${formatValue(name, x.ci95[0])}, ${formatValue(name, x.ci95[1])}]</small>` : ''}</td>`;
  };
  const adapters = variants.slice(1);
  return Object.entries(task.metrics).map(([name, m]) => `<tr><th>${name}${m.higherIsBetter ? ' &uarr;' : ' &darr;'}</th>${variants.map((v) => cell(name, m, v)).join('')}${adapters.map((a) => {
    const d = m.deltas[a];
    return `<td>${formatDelta(name, d.mean)}<br><small>[${formatDelta(name, d.ci95[0])}, ${formatDelta(name, d.ci95[1])}]${d.mcnemarP !== undefined ? ` p=${d.mcnemarP.toPrecision(2)}` : ''}</small></td>`;
  }).join('')}</tr>`).join('\n');
}

/** The HTML page: tables, per-task change with its 95% interval, and reliability diagrams, drawn with Chart.js (inlined: the page works offline). */
export function reportHtml(report: EvalReport, title: string): string {
  const adapters = report.variants.slice(1);
  // One chart per unit, so a change in accuracy points and one in bits per byte are each readable.
  const deltas = report.tasks.flatMap((t) => adapters.map((a) => {
    const m = primaryMetric(t), d = t.metrics[m].deltas[a];
    const scale = pct(m) ? 100 : 1;
    return { unit: pct(m) ? 'points' : 'bpb', label: `${t.name}: ${m}${adapters.length > 1 ? ` (${a})` : ''}`, mean: d.mean * scale, lo: d.ci95[0] * scale, hi: d.ci95[1] * scale };
  }));
  const units = [...new Set(deltas.map((d) => d.unit))];
  const reliability = report.tasks.filter((t) => t.reliability).map((t) => ({ task: t.name, bins: t.reliability! }));
  const data = JSON.stringify({ deltas, reliability, variants: report.variants }).replace(/</g, '\\u003c');
  const tables = report.tasks.map((t) => `<section><h2>${t.name}</h2><p>${t.description} &middot; ${t.n} items</p>
<table><tr><th>metric</th>${report.variants.map((v) => `<th>${v}</th>`).join('')}${adapters.map((a) => `<th>&Delta; ${a} (paired, 95% CI)</th>`).join('')}</tr>
${metricRows(t, report.variants)}</table>${t.reliability ? `<div class="chart"><canvas id="rel-${t.name}"></canvas></div>` : ''}</section>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em auto;max-width:980px;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child{text-align:left}small{color:#666}.chart{height:300px;margin:1em 0}.chart.small{height:160px}</style>
</head><body>
<h1>${title}</h1>
<p>Every model was scored on the same items in one run. Intervals are 95%; changes are paired per item (standard error of per-item differences), as in Miller (2024), "Adding Error Bars to Evals".</p>
<section><h2>Change from base, with 95% intervals</h2>${units.map((u) => `<div class="chart small"><canvas id="deltas-${u}"></canvas></div>`).join('')}</section>
${tables}
<script>${chartJsSource()}</script>
<script>
const DATA = ${data};
const UNIT_TITLE = { points: 'change in percentage points (accuracy, F1, exact match)', bpb: 'change in bits per byte (lower is better)' };
for (const unit of [...new Set(DATA.deltas.map((d) => d.unit))]) {
  const rows = DATA.deltas.filter((d) => d.unit === unit);
  new Chart(document.getElementById('deltas-' + unit), {
    data: { labels: rows.map((d) => d.label), datasets: [
      { type: 'bar', label: '95% interval', data: rows.map((d) => [d.lo, d.hi]), backgroundColor: 'rgba(54,162,235,0.35)' },
      { type: 'line', label: 'paired change', data: rows.map((d) => d.mean), showLine: false, pointRadius: 6, backgroundColor: 'rgb(54,162,235)' } ] },
    options: { indexAxis: 'y', maintainAspectRatio: false, animation: false, scales: { x: { title: { display: true, text: UNIT_TITLE[unit] } } } },
  });
}
const colors = ['rgba(150,150,150,0.6)', 'rgba(54,162,235,0.7)', 'rgba(255,159,64,0.7)', 'rgba(75,192,192,0.7)'];
for (const r of DATA.reliability) {
  const labels = r.bins[DATA.variants[0]].map((b) => ((b.lower + b.upper) / 2).toFixed(2));
  new Chart(document.getElementById('rel-' + r.task), {
    data: { labels, datasets: [
      ...DATA.variants.map((v, i) => ({ type: 'bar', label: v + ' accuracy', data: r.bins[v].map((b) => (b.count ? b.accuracy : null)), backgroundColor: colors[i % colors.length] })),
      { type: 'line', label: 'perfect calibration', data: labels.map(Number), borderColor: '#d33', pointRadius: 0 } ] },
    options: { maintainAspectRatio: false, animation: false, plugins: { title: { display: true, text: 'Reliability diagram: ' + r.task } },
      scales: { x: { title: { display: true, text: 'confidence (15 bins)' } }, y: { min: 0, max: 1, title: { display: true, text: 'accuracy' } } } },
  });
}
</script>
</body></html>
`;
}

/** Writes results.json (every metric), items.jsonl (every item and variant) and index.html. */
export function writeReport(report: EvalReport, dir: string, meta: Record<string, unknown> = {}): void {
  mkdirSync(dir, { recursive: true });
  writeTextAtomic(join(dir, 'results.json'), `${JSON.stringify({ ...meta, variants: report.variants, tasks: report.tasks }, null, 2)}\n`);
  writeTextAtomic(join(dir, 'items.jsonl'), report.items.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeTextAtomic(join(dir, 'index.html'), reportHtml(report, String(meta.title ?? 'peft-ts evaluation')));
}
