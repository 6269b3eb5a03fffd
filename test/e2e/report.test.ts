import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { evaluate, writeReport, type EvalTask, type Scorer } from '../../src/eval/index.js';

const CHROMIUM = '/usr/bin/chromium';

/** A small two-variant report: a classification task (reliability diagram) and a perplexity task. */
function sampleReport(dir: string): string {
  const cls: EvalTask = {
    name: 'spam', outputType: 'classification', until: [], maxGenTokens: 0, description: 'sample',
    items: Array.from({ length: 40 }, (_, i) => ({ id: String(i), context: String(i), choices: [' no', ' yes'], gold: i % 2 })),
  };
  const ppl: EvalTask = { name: 'heldout', outputType: 'loglikelihood_rolling', until: [], maxGenTokens: 0, description: 'sample', items: [{ id: 'a', context: '', text: 'some text' }, { id: 'b', context: '', text: 'more text here' }] };
  let variant = 'base';
  const scorer: Scorer = {
    choiceLogLikelihoods: (reqs) => reqs.map((q) => {
      const i = Number(q.context), right = variant === 'lora' ? i % 5 !== 0 : i % 3 === 0;
      const goldFirst = i % 2 === 0;
      const margin = 0.2 + (i % 7) / 5;
      return { logliks: (right === goldFirst) ? [0, -margin] : [-margin, 0], tokens: [1, 1] };
    }),
    rollingNll: (text) => ({ nll: text.length * (variant === 'lora' ? 1.05 : 1), tokens: text.length / 2 }),
    generateUntil: () => '',
  };
  const report = evaluate(scorer, ['base', 'lora'].map((name) => ({ name, run: (fn) => { variant = name; return fn(); } })), [cls, ppl]);
  writeReport(report, dir, { title: 'report test' });
  return join(dir, 'index.html');
}

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed (apt-get install -y chromium)`;

test('the HTML report renders its charts in headless Chromium with no console errors', { skip }, async () => {
  const page = sampleReport(mkdtempSync(join(tmpdir(), 'peft-ts-html-')));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(pathToFileURL(page).href);
    const charts = await tab.evaluate(() => {
      const chart = (globalThis as unknown as { Chart: { instances: Record<string, { canvas: HTMLCanvasElement; data: { datasets: unknown[] } }> } }).Chart;
      return Object.values(chart.instances).map((c) => {
        const ctx = c.canvas.getContext('2d')!;
        const { width, height } = c.canvas;
        const pixels = ctx.getImageData(0, 0, width, height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
        return { id: c.canvas.id, datasets: c.data.datasets.length, width, height, painted };
      });
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(charts.map((c) => c.id).sort(), ['deltas-bpb', 'deltas-points', 'rel-spam']);
    for (const c of charts) assert.ok(c.width > 100 && c.height > 100 && c.painted > 500, `${c.id}: ${JSON.stringify(c)}`);
    assert.equal(charts.find((c) => c.id === 'rel-spam')!.datasets, 3, 'base, lora and the calibration diagonal');
  } finally {
    await browser.close();
  }
});
