import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator } from '../tensor/index.js';
import { newcombePairedInterval, pairedTable, wilsonInterval } from '../eval/index.js';
import { leaderboards, seedItemMean, seedItemPairedChange, seedItemProportion } from './analysis.js';
import type { CompareSettings, JobResult } from './jobs.js';

test('the seed-and-item interval, checked by hand on a 3 seeds x 4 items table', () => {
  // y = [[1,1,1,0],[0,0,1,0],[1,0,1,0]]: grand mean 6/12 = 0.5.
  // Seed means .75, .25, .5: SS_seed = 4 * (.0625 + .0625 + 0) = 0.5, MS_seed = 0.5 / 2 = 0.25.
  // Item means 2/3, 1/3, 1, 0: SS_item = 3 * (2 * 1/36 + 2 * 1/4) = 5/3, MS_item = (5/3) / 3 = 5/9.
  // SS_total = 12 * 0.25 = 3, SS_resid = 3 - 0.5 - 5/3 = 5/6, MS_resid = (5/6) / 6 = 5/36.
  // Var = (1/4 + 5/9 - 5/36) / 12 = (2/3) / 12 = 1/18, SE = 0.2357; seed sd = sd(.75, .25, .5) = 0.25.
  const m = seedItemMean([
    [1, 1, 1, 0],
    [0, 0, 1, 0],
    [1, 0, 1, 0],
  ]);
  assert.equal(m.mean, 0.5);
  assert.ok(Math.abs(m.se - Math.sqrt(1 / 18)) < 1e-12, `se ${m.se}`);
  assert.ok(Math.abs(m.seedSd - 0.25) < 1e-12);
  assert.ok(Math.abs(m.ci95[1] - (0.5 + 1.959963984540054 * Math.sqrt(1 / 18))) < 1e-9);
});

test('with one seed it is the usual standard error of the item mean; negative estimates are floored at the residual term', () => {
  const one = seedItemMean([[1, 0, 1, 1]]);
  const sd = Math.sqrt((0.25 ** 2 * 3 + 0.75 ** 2) / 3);
  assert.ok(Math.abs(one.se - sd / 2) < 1e-12);
  // [[1,0,1],[1,1,0]]: MS_seed 0, MS_item 1/6, MS_resid 1/2, so MS_s + MS_i - MS_r < 0: Var = MS_resid / (S n) = 1/12.
  assert.ok(
    Math.abs(
      seedItemMean([
        [1, 0, 1],
        [1, 1, 0],
      ]).se - Math.sqrt(1 / 12),
    ) < 1e-12,
  );
});

test('the interval covers the true mean about 95% of the time when seeds and items both vary', () => {
  const gen = new Generator(11);
  const normal = () => Math.sqrt(-2 * Math.log(1 - gen.uniform())) * Math.cos(2 * Math.PI * gen.uniform());
  let covered = 0;
  const trials = 400;
  for (let k = 0; k < trials; k++) {
    const seedEffects = [0, 1, 2, 3, 4].map(() => 0.1 * normal());
    const itemEffects = Array.from({ length: 40 }, () => 0.3 * normal());
    const table = seedEffects.map((a) => itemEffects.map((b) => a + b + 0.2 * normal()));
    const m = seedItemMean(table);
    if (m.ci95[0] <= 0 && m.ci95[1] >= 0) covered++;
  }
  // With 5 seeds the normal quantile under-covers slightly (documented); far from 95% means the variance is wrong.
  assert.ok(covered / trials > 0.85 && covered / trials < 0.995, `coverage ${covered / trials}`);
  // Ignoring the seed term (item SE only) would under-cover badly here: check the seed term matters.
  const table = [0.2, -0.2, 0.1].map((a) => Array.from({ length: 40 }, (_, i) => a + (i % 2)));
  assert.ok(seedItemMean(table).seedVariance > 0);
});

test("with one seed the intervals are eval's: Wilson for accuracy, Newcombe's paired interval for a change", () => {
  const base = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1];
  const adapted = [1, 1, 1, 1, 0, 1, 1, 1, 1, 1];
  assert.deepEqual(seedItemProportion([adapted]).ci95, wilsonInterval(9, 10));
  const change = seedItemPairedChange([base], [adapted]);
  assert.ok(Math.abs(change.mean - 0.3) < 1e-12);
  assert.deepEqual(
    change.ci95,
    newcombePairedInterval(
      pairedTable(
        base.map((v) => v === 1),
        adapted.map((v) => v === 1),
      ),
    ),
  );
});

test('intervals stay inside [0, 1] and [-1, 1] and keep a width at 100% and at no change, with one seed or three', () => {
  for (const seeds of [1, 3]) {
    const perfect = Array.from({ length: seeds }, () => Array<number>(10).fill(1));
    const acc = seedItemProportion(perfect);
    assert.ok(acc.ci95[1] > 1 - 1e-12 && acc.ci95[1] <= 1);
    assert.ok(acc.ci95[0] > 0.5 && acc.ci95[0] < 1, `lower ${acc.ci95[0]}`);
    const same = seedItemPairedChange(perfect, perfect);
    assert.equal(same.mean, 0);
    assert.ok(same.ci95[0] < 0 && same.ci95[1] > 0, `no-change interval ${same.ci95}`);
    const allGained = seedItemPairedChange(
      Array.from({ length: seeds }, () => Array<number>(10).fill(0)),
      perfect,
    );
    assert.ok(allGained.ci95[1] <= 1 && allGained.ci95[0] > 0, `${allGained.ci95}`);
  }
});

test('seed-to-seed spread widens the interval through the design effect', () => {
  // Three seeds with very different accuracies on 40 items (20%, 50%, 80%), against the same pooled
  // accuracy with every seed alike: the spread must show in a wider interval.
  const spread = [8, 20, 32].map((k) => Array.from({ length: 40 }, (_, i) => (i < k ? 1 : 0)));
  const alike = [20, 20, 20].map((k, s) => Array.from({ length: 40 }, (_, i) => ((i + s * 7) % 40 < k ? 1 : 0)));
  const wide = seedItemProportion(spread),
    narrow = seedItemProportion(alike);
  assert.equal(wide.mean, narrow.mean);
  assert.ok(wide.ci95[1] - wide.ci95[0] > 1.5 * (narrow.ci95[1] - narrow.ci95[0]), `${wide.ci95} vs ${narrow.ci95}`);
  assert.ok(wide.ci95[0] >= 0 && wide.ci95[1] <= 1);
});

test('leaderboards pair every method with the base and the best on the same items, and mark ties', () => {
  const settings: CompareSettings = { model: 'm', epochs: 1, lr: 1e-3, batchSize: 8, evalLimit: 0, heldoutDocs: 1, methods: {} };
  const items = (correct: number[]) => correct.map((c, i) => ({ id: `i${i}`, gold: 1, pred: c ? 1 : 0, correct: c, probGold: c ? 0.9 : 0.1 }));
  const result = (method: string, seed: number, correct: number[], bpb = 1): JobResult => ({
    key: `${method}${seed}`,
    job: { kind: method === 'base' ? 'base' : 'adapter', task: 'spam', method, seed, size: 16 },
    items: items(correct),
    accuracy: correct.reduce((a, b) => a + b, 0) / correct.length,
    heldoutBitsPerByte: bpb,
    trainableParameters: 10,
    trainSeconds: 1,
    peakRssMb: 100,
    finishedAt: '',
  });
  const n = 40;
  const base = result(
    'base',
    0,
    Array.from({ length: n }, (_, i) => (i < 20 ? 1 : 0)),
    1.0,
  );
  const strong = [1, 2].map((s) =>
    result(
      'lora',
      s,
      Array.from({ length: n }, (_, i) => (i < 38 ? 1 : 0)),
      1.1,
    ),
  );
  const close = [1, 2].map((s) =>
    result(
      'ia3',
      s,
      Array.from({ length: n }, (_, i) => (i < 37 ? 1 : 0)),
      1.05,
    ),
  );
  const board = leaderboards([base, ...strong, ...close], [], settings, 2, [16]).tasks[0];
  assert.deepEqual(
    board.rows.map((r) => r.method),
    ['lora', 'ia3'],
  );
  assert.equal(board.rows[0].changeFromBest, null);
  assert.ok(Math.abs(board.rows[0].changeFromBase.mean - 18 / 40) < 1e-12);
  assert.ok(Math.abs(board.rows[1].changeFromBest!.mean + 1 / 40) < 1e-12);
  assert.equal(board.rows[1].tiedWithBest, true);
  assert.ok(Math.abs(board.rows[0].costBitsPerByte - 0.1) < 1e-12);
});
