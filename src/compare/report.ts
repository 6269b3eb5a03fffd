import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chartJsSource } from '../eval/index.js';
import { writeTextAtomic } from '../io/index.js';
import type { CompareResults, LeaderboardRow, SeedItemMean, TaskLeaderboard } from './analysis.js';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
const interval = (m: SeedItemMean, f: (x: number) => string) => `${f(m.mean)} <small>[${f(m.ci95[0])}, ${f(m.ci95[1])}]</small>`;
const sizeLabel = (n: number) => (n === 0 ? 'all' : String(n));
/** A signed bits-per-byte change; a change that rounds to zero reads +0.0000, not -0.0000. */
const signedBpb = (x: number) => {
  const text = Math.abs(x).toFixed(4);
  return `${x < 0 && Number(text) !== 0 ? '-' : '+'}${text}`;
};

/** One line per method: the plain-text table `compare` prints. */
export function leaderboardText(results: CompareResults): string {
  const lines: string[] = [];
  for (const t of results.tasks) {
    lines.push(`${t.task}: ${t.items} held-out items; base ${(100 * t.base.accuracy.mean).toFixed(1)}% [${(100 * t.base.accuracy.ci95[0]).toFixed(1)}, ${(100 * t.base.accuracy.ci95[1]).toFixed(1)}]`);
    lines.push(
      `  ${'size'.padEnd(5)} ${'method'.padEnd(18)} ${'accuracy [95% CI]'.padEnd(22)} ${'vs base (pt)'.padEnd(22)} ${'vs best (pt)'.padEnd(24)} ${'seed sd'.padEnd(8)} ${'params'.padEnd(9)} ${'train s'.padEnd(8)} ${'cost b/B'.padEnd(9)}`,
    );
    for (const r of t.rows) {
      const acc = `${(100 * r.accuracy.mean).toFixed(1)} [${(100 * r.accuracy.ci95[0]).toFixed(1)}, ${(100 * r.accuracy.ci95[1]).toFixed(1)}]`;
      const base = `${pts(r.changeFromBase.mean)} [${pts(r.changeFromBase.ci95[0])}, ${pts(r.changeFromBase.ci95[1])}]`;
      const best = r.changeFromBest ? `${pts(r.changeFromBest.mean)} [${pts(r.changeFromBest.ci95[0])}, ${pts(r.changeFromBest.ci95[1])}]${r.tiedWithBest ? ' tied' : ''}` : 'best';
      lines.push(
        `  ${sizeLabel(r.size).padEnd(5)} ${`${r.method}${r.shots !== undefined ? ` (k=${r.shots.toFixed(0)})` : ''}`.padEnd(18)} ${acc.padEnd(22)} ${base.padEnd(22)} ${best.padEnd(24)} ${(100 * r.accuracy.seedSd).toFixed(1).padEnd(8)} ${String(r.trainableParameters).padEnd(9)} ${r.trainSeconds.toFixed(0).padEnd(8)} ${signedBpb(r.costBitsPerByte)}`,
      );
    }
    for (const f of t.failures) lines.push(`  failed: ${f.job.method} seed ${f.job.seed} size ${sizeLabel(f.job.size)}: ${f.error}`);
  }
  return lines.join('\n');
}

function taskSection(t: TaskLeaderboard, index: number): string {
  const row = (r: LeaderboardRow) => `<tr class="${r.changeFromBest === null ? 'best' : r.tiedWithBest ? 'tied' : ''}">
    <td>${sizeLabel(r.size)}</td><td>${escapeHtml(r.method)}${r.shots !== undefined ? ` <small>(k=${r.shots.toFixed(0)})</small>` : ''}</td>
    <td>${interval(r.accuracy, pct)}</td><td class="${r.changeFromBase.ci95[0] > 0 ? 'better' : r.changeFromBase.ci95[1] < 0 ? 'worse' : ''}">${interval(r.changeFromBase, pts)}</td>
    <td>${r.changeFromBest ? `${interval(r.changeFromBest, pts)}${r.tiedWithBest ? ' <b>tied with the best</b>' : ''}` : '<b>best</b>'}</td>
    <td>${(100 * r.accuracy.seedSd).toFixed(1)}</td><td>${r.trainableParameters.toLocaleString('en-US')}</td><td>${r.trainSeconds.toFixed(0)}</td>
    <td>${r.peakRssMb.toFixed(0)}</td><td class="${r.costBitsPerByte > 0 ? 'worse' : 'better'}">${signedBpb(r.costBitsPerByte)}</td></tr>`;
  const failures = t.failures.length
    ? `<p class="worse">Failed jobs: ${t.failures.map((f) => `${escapeHtml(f.job.method)} seed ${f.job.seed} size ${sizeLabel(f.job.size)} (${escapeHtml(f.error)})`).join('; ')}</p>`
    : '';
  return `<section><h2>${escapeHtml(t.task)}</h2>
<p>${t.items} held-out items, the same for every model. Base: ${interval(t.base.accuracy, pct)}, held-out text ${t.base.heldoutBitsPerByte.toFixed(4)} bits/byte.</p>
<table><thead><tr><th>train size</th><th>method</th><th>accuracy [95% CI]</th><th>change from base, pt</th><th>change from the best, pt</th><th>seed sd, pt</th><th>trainable</th><th>train s</th><th>peak MB</th><th>cost, bits/byte</th></tr></thead>
<tbody>${t.rows.map(row).join('\n')}</tbody></table>${failures}
<div class="charts"><div><canvas id="curve${index}"></canvas></div><div><canvas id="scatter${index}"></canvas></div></div></section>`;
}

/** The leaderboard page: every task ranked with intervals, learning curves, cost against gain. Chart.js inlined (offline). */
export function compareHtml(results: CompareResults): string {
  const data = JSON.stringify(
    results.tasks.map((t) => ({
      methods: [...new Set(t.rows.map((r) => r.method))],
      sizes: [...new Set(t.rows.map((r) => r.size))],
      rows: t.rows.map((r) => ({ method: r.method, size: r.size, mean: r.accuracy.mean, lo: r.accuracy.ci95[0], hi: r.accuracy.ci95[1], gain: r.changeFromBase.mean, cost: r.costBitsPerByte })),
    })),
  ).replace(/</g, '\\u003c');
  return `<!doctype html><html><head><meta charset="utf-8"><title>peft-ts compare</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}
tr.best{background:#e8f5e9}tr.tied{background:#f1f8e9}.better{color:#1b5e20}.worse{color:#b71c1c}.charts{display:flex;gap:2em}.charts>div{width:560px;height:320px}small{color:#666}</style></head><body>
<h1>peft-ts compare</h1>
<p>Model <code>${escapeHtml(results.settings.model)}</code>; ${results.seeds} seed(s); training sizes ${results.sizes.map(sizeLabel).join(', ')}; ${results.settings.epochs} epoch(s) at lr ${results.settings.lr}. Created ${escapeHtml(results.createdAt)}.</p>
<p><small>Intervals: ${escapeHtml(results.intervalMethod)}. "Tied with the best": the paired change from the best method at that size has an interval holding zero.</small></p>
${results.tasks.map(taskSection).join('\n')}
<script>${chartJsSource()}</script>
<script>
const tasks = ${data};
const colours = ['#1565c0', '#c62828', '#2e7d32', '#6a1b9a', '#ef6c00', '#00838f', '#5d4037', '#ad1457'];
tasks.forEach((t, i) => {
  const label = (s) => s === 0 ? 'all' : String(s);
  new Chart(document.getElementById('curve' + i), { type: 'line', options: { responsive: true, maintainAspectRatio: false, plugins: { title: { display: true, text: 'Accuracy by training size (95% CI as dashed bounds)' } } },
    data: { labels: t.sizes.map(label), datasets: t.methods.flatMap((m, k) => {
      const pts = t.sizes.map((s) => t.rows.find((r) => r.method === m && r.size === s));
      const c = colours[k % colours.length];
      return [{ label: m, data: pts.map((p) => p ? p.mean : null), borderColor: c },
        { label: m + ' low', data: pts.map((p) => p ? p.lo : null), borderColor: c, borderDash: [4, 4], pointRadius: 0 },
        { label: m + ' high', data: pts.map((p) => p ? p.hi : null), borderColor: c, borderDash: [4, 4], pointRadius: 0 }];
    }) } });
  new Chart(document.getElementById('scatter' + i), { type: 'scatter', options: { responsive: true, maintainAspectRatio: false, plugins: { title: { display: true, text: 'Gain on the task vs cost on held-out text' } },
      scales: { x: { title: { display: true, text: 'cost, bits/byte (right = worse)' } }, y: { title: { display: true, text: 'accuracy change from base' } } } },
    data: { datasets: t.methods.map((m, k) => ({ label: m, backgroundColor: colours[k % colours.length], data: t.rows.filter((r) => r.method === m).map((r) => ({ x: r.cost, y: r.gain })) })) } });
});
</script></body></html>`;
}

/** Writes results.json and index.html into `dir`, atomically. */
export function writeCompareReport(results: CompareResults, dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeTextAtomic(join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeTextAtomic(join(dir, 'index.html'), compareHtml(results));
}
