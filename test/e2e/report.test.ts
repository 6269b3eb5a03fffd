import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describeRun, evaluate, writeReport, type EvalTask, type Scorer } from '../../src/eval/index.js';

const CHROMIUM = '/usr/bin/chromium';

/** A model folder and a trained adapter folder as `peft-ts train` leaves them: config, trainer state, settings and loss log. */
function runFolders(dir: string): { model: string; adapter: string } {
  const model = join(dir, 'model'),
    adapter = join(dir, 'lora');
  mkdirSync(model);
  mkdirSync(adapter);
  writeFileSync(join(model, 'config.json'), JSON.stringify({ model_type: 'gpt2' }));
  writeFileSync(join(adapter, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 8, lora_alpha: 16, target_modules: ['c_attn', 'c_proj'], base_model_name_or_path: model }));
  writeFileSync(join(adapter, 'trainer_state.json'), JSON.stringify({ global_step: 30, epoch: 2 }));
  writeFileSync(join(adapter, 'training_args.json'), JSON.stringify({ data: 'emails.jsonl', seed: 7, lr: '1e-3' }));
  writeFileSync(
    join(adapter, 'metrics.jsonl'),
    Array.from({ length: 30 }, (_, i) => JSON.stringify({ step: i + 1, loss: 2 / (i + 1) }) + (i % 10 === 9 ? `\n${JSON.stringify({ step: i + 1, eval_loss: 2.5 / (i + 1) })}` : '')).join('\n') + '\n',
  );
  return { model, adapter };
}

/** A small two-variant report: a classification task (reliability diagram) and a perplexity task. */
function sampleReport(dir: string): string {
  const cls: EvalTask = {
    name: 'spam',
    outputType: 'classification',
    until: [],
    maxGenTokens: 0,
    description: 'sample',
    items: Array.from({ length: 40 }, (_, i) => ({ id: String(i), context: String(i), choices: [' no', ' yes'], gold: i % 2 })),
  };
  const ppl: EvalTask = {
    name: 'heldout',
    outputType: 'loglikelihood_rolling',
    until: [],
    maxGenTokens: 0,
    description: 'sample',
    items: [
      { id: 'a', context: '', text: 'some text' },
      { id: 'b', context: '', text: 'more text here' },
    ],
  };
  let variant = 'base';
  const scorer: Scorer = {
    choiceLogLikelihoods: (reqs) =>
      reqs.map((q) => {
        const i = Number(q.context),
          right = variant === 'lora' ? i % 5 !== 0 : i % 3 === 0;
        const goldFirst = i % 2 === 0;
        const margin = 0.2 + (i % 7) / 5;
        return { logliks: right === goldFirst ? [0, -margin] : [-margin, 0], tokens: [1, 1] };
      }),
    rollingNll: (text) => ({ nll: text.length * (variant === 'lora' ? 1.05 : 1), tokens: text.length / 2 }),
    generateUntil: () => '',
  };
  const report = evaluate(
    scorer,
    ['base', 'lora'].map((name) => ({
      name,
      run: (fn) => {
        variant = name;
        return fn();
      },
    })),
    [cls, ppl],
  );
  const { model, adapter } = runFolders(dir);
  const run = describeRun({ model, adapters: [{ name: 'lora', path: adapter }], tasks: ['spam', 'heldout'], seed: 3, date: new Date('2026-11-28T12:00:00Z') });
  writeReport(report, join(dir, 'report'), { title: 'report test', run });
  return join(dir, 'report', 'index.html');
}

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed (apt-get install -y chromium)`;

test('the HTML report renders in headless Chromium: run header, changes coloured by direction around zero, loss curve, bin counts, flipped items; no console errors', { skip }, async () => {
  const page = sampleReport(mkdtempSync(join(tmpdir(), 'peft-ts-html-')));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(pathToFileURL(page).href);
    const charts = await tab.evaluate(() => {
      type ChartLike = { canvas: HTMLCanvasElement; data: { datasets: { label: string; data: unknown[]; backgroundColor: unknown }[] }; scales: Record<string, { min: number; max: number }> };
      const chart = (globalThis as unknown as { Chart: { instances: Record<string, ChartLike> } }).Chart;
      return Object.values(chart.instances).map((c) => {
        const ctx = c.canvas.getContext('2d')!;
        const { width, height } = c.canvas;
        const pixels = ctx.getImageData(0, 0, width, height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
        return {
          id: c.canvas.id,
          datasets: c.data.datasets.map((d) => ({ label: d.label, points: d.data.length, colour: d.backgroundColor })),
          x: c.scales.x ? [c.scales.x.min, c.scales.x.max] : null,
          width,
          height,
          painted,
        };
      });
    });
    const shown = await tab.evaluate(() => {
      const text = (sel: string) => Array.from(document.querySelectorAll(sel)).map((e) => (e as HTMLElement).innerText);
      return {
        header: text('#run')[0] ?? '',
        binCounts: Array.from(document.querySelectorAll('table.bin-counts tr'))
          .slice(1)
          .map((tr) => Array.from(tr.querySelectorAll('td')).reduce((s, td) => s + Number(td.textContent), 0)),
        fixed: document.querySelectorAll('.flipped.fixed tr').length - 1,
        broken: document.querySelectorAll('.flipped.broken tr').length - 1,
        flipHeadings: text('.flipped h3'),
        deltaCells: Array.from(document.querySelectorAll('td.better, td.worse')).map((td) => td.className),
      };
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(charts.map((c) => c.id).sort(), ['deltas-bpb', 'deltas-points', 'loss', 'rel-spam']);
    for (const c of charts) assert.ok(c.width > 100 && c.height > 100 && c.painted > 500, `${c.id}: ${JSON.stringify(c)}`);
    assert.equal(charts.find((c) => c.id === 'rel-spam')!.datasets.length, 3, 'base, lora and the calibration diagonal');
    // Run metadata: model, method and config, steps, data, seed, peft-ts version, date.
    for (const want of ['gpt2', 'LORA', 'r=8', 'lora_alpha=16', 'c_attn,c_proj', '30 steps', 'emails.jsonl', 'seed 7', 'spam (40 items)', '0.1.0', '2026-11-28T12:00:00.000Z'])
      assert.ok(shown.header.includes(want), `header lacks '${want}': ${shown.header}`);
    // The accuracy change is better (green), the bits-per-byte change worse (red), each on an axis centred on zero.
    const points = charts.find((c) => c.id === 'deltas-points')!,
      bpb = charts.find((c) => c.id === 'deltas-bpb')!;
    assert.deepEqual(points.datasets[0].colour, ['rgba(46,160,67,0.3)']);
    assert.deepEqual(bpb.datasets[0].colour, ['rgba(214,39,40,0.3)']);
    for (const c of [points, bpb]) assert.ok(Math.abs(c.x![0] + c.x![1]) < 1e-9 && c.x![1] > 0, `${c.id} axis ${c.x}`);
    assert.ok(shown.deltaCells.includes('better') && shown.deltaCells.includes('worse'));
    // Loss curve: 30 training points and 3 validation points.
    assert.deepEqual(
      charts.find((c) => c.id === 'loss')!.datasets.map((d) => [d.label, d.points]),
      [
        ['lora training loss', 30],
        ['lora validation loss', 3],
      ],
    );
    // Bin counts: each variant's row sums to the 40 items.
    assert.deepEqual(shown.binCounts, [40, 40]);
    // Flipped items both ways, with the counts in the headings (10 examples shown at most).
    assert.ok(shown.fixed > 0 && shown.broken > 0 && shown.fixed <= 10, JSON.stringify(shown));
    assert.match(shown.flipHeadings.join('\n'), /Fixed by lora: \d+ items/);
    assert.match(shown.flipHeadings.join('\n'), /Broken by lora: \d+ items/);
  } finally {
    await browser.close();
  }
});
