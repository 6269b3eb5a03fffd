import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brierScore, expectedCalibrationError } from './calibration.js';
import { bootstrapInterval, clusteredMean, mcnemarExact, meanWithError, newcombePairedInterval, normalQuantile, pairedDelta, pairedTable, sampleSizeForDelta, wilsonInterval, Z95 } from './stats.js';

const near = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('standard error of the mean, by hand', () => {
  // mean 2.5; sample variance ((1.5^2 + 0.5^2) * 2) / 3 = 5/3; SE = sqrt(5/3 / 4)
  const r = meanWithError([1, 2, 3, 4]);
  near(r.mean, 2.5);
  near(r.se, Math.sqrt(5 / 12));
  near(r.ci95[1] - r.mean, 1.959964 * Math.sqrt(5 / 12), 1e-5);
});

test('clustered standard error, by hand', () => {
  // residuals -1.5, -0.5 | 0.5, 1.5 -> cluster sums -2, 2 -> SE = sqrt(4 + 4) / 4
  near(clusteredMean([1, 2, 3, 4], ['a', 'a', 'b', 'b']).se, Math.sqrt(8) / 4);
  // one item per cluster: sqrt(sum r^2) / n, i.e. the SE with an n (not n - 1) variance
  near(clusteredMean([1, 2, 3, 4], ['a', 'b', 'c', 'd']).se, Math.sqrt(5) / 4);
});

test('paired difference: mean, SE, interval and correlation, by hand', () => {
  const r = pairedDelta([0, 1, 1, 0], [1, 1, 1, 0]);
  // differences 1, 0, 0, 0: mean 0.25, variance (0.75^2 + 3 * 0.25^2) / 3 = 0.25, SE = sqrt(0.25 / 4) = 0.25
  near(r.mean, 0.25);
  near(r.se, 0.25);
  near(r.ci95[0], 0.25 - 1.959964 * 0.25, 1e-5);
  // deviations (-.5, .5, .5, -.5) and (.25, .25, .25, -.75): r = 0.5 / sqrt(1 * 0.75)
  near(r.correlation, 0.5 / Math.sqrt(0.75));
  assert.ok(r.se < r.unpairedSe + 1e-12);
});

test("McNemar's exact test, by hand", () => {
  // only base right on 1 item, only adapted right on 5: p = 2 * P(Bin(6, 1/2) <= 1) = 2 * 7/64
  const base = [true, false, false, false, false, false, true, true];
  const adapted = [false, true, true, true, true, true, true, false].map((x, i) => (i === 7 ? true : x));
  const r = mcnemarExact(base, adapted);
  assert.deepEqual([r.b, r.c], [1, 5]);
  near(r.pValue, 14 / 64);
  assert.equal(mcnemarExact([true], [true]).pValue, 1);
});

test('ECE with 15 bins and the Brier score, by hand', () => {
  // 0.9 (right), 0.9 (wrong) -> bin 13: |0.5 - 0.9| * 2/4; 0.6 (right) -> |1 - 0.6| / 4; 0.3 (wrong) -> |0 - 0.3| / 4
  const { ece, bins } = expectedCalibrationError([0.9, 0.9, 0.6, 0.3], [true, false, true, false]);
  near(ece, 0.2 + 0.1 + 0.075);
  assert.equal(bins.length, 15);
  assert.equal(bins[13].count, 2);
  // (0.1^2 + 0.1^2) and (0.8^2 + 0.8^2), averaged
  near(
    brierScore(
      [
        [0.9, 0.1],
        [0.2, 0.8],
      ],
      [0, 0],
    ),
    (0.02 + 1.28) / 2,
  );
});

test('power: items needed to detect a paired delta, by hand', () => {
  near(normalQuantile(0.975), 1.959964, 1e-6);
  near(normalQuantile(0.8), 0.841621, 1e-6);
  near(normalQuantile(0.01), -2.326348, 1e-6);
  // ((1.959964 + 0.841621) * 0.3 / 0.05)^2 = 282.56 -> 283
  assert.equal(sampleSizeForDelta(0.05, 0.3), 283);
  assert.throws(() => sampleSizeForDelta(0, 0.3), /non-zero delta/);
});

test('bootstrap intervals are seeded and cover the mean', () => {
  const values = Array.from({ length: 100 }, (_, i) => i % 2);
  const a = bootstrapInterval(values, undefined, { seed: 1 }),
    b = bootstrapInterval(values, undefined, { seed: 1 });
  assert.deepEqual(a, b);
  assert.ok(a[0] < 0.5 && a[1] > 0.5 && a[1] - a[0] < 0.25 && a[1] - a[0] > 0.12, `${a}`);
  assert.deepEqual(bootstrapInterval([3, 3, 3], undefined, { resamples: 50 }), [3, 3]);
});

test("Wilson's score interval matches Newcombe's (1998a) worked examples", () => {
  // Statistics in Medicine 17:857, Table II, method 3 (score interval without continuity correction)
  const cases: [number, number, number, number][] = [
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ];
  for (const [x, n, lo, hi] of cases) {
    const [l, u] = wilsonInterval(x, n);
    near(l, lo, 5e-5);
    near(u, hi, 5e-5);
  }
  // all right: the upper limit is 1 and the lower n / (n + z^2), by hand
  assert.deepEqual(
    wilsonInterval(5, 5).map((v) => +v.toFixed(12)),
    [+(5 / (5 + Z95 * Z95)).toFixed(12), 1],
  );
  // the example: 1 of 5 right. Wald gave [-19.2%, 59.2%]; Wilson stays in [0, 1]
  const [l, u] = wilsonInterval(1, 5);
  near(l, 0.0362, 5e-5);
  near(u, 0.6245, 5e-5);
  assert.throws(() => wilsonInterval(6, 5), /0 <= successes <= n/);
});

test("Newcombe's paired interval (1998b, method 10): the paper's example and honest widths with no discordant items", () => {
  // Statistics in Medicine 17:2635, Table II example: 36 pairs both positive, 12 positive only in the
  // first, 2 only in the second, 0 neither: theta = (12 - 2) / 50 = 0.2, method 10 gives 0.0569 to 0.3404.
  // Here the interval is for the second (B) minus the first (A), so the first's "only" count is onlyB.
  const [lo, hi] = newcombePairedInterval({ both: 36, onlyA: 2, onlyB: 12, neither: 0 });
  near(lo, 0.0569, 5e-5);
  near(hi, 0.3404, 5e-5);
  const [nlo, nhi] = newcombePairedInterval({ both: 36, onlyA: 12, onlyB: 2, neither: 0 });
  near(nlo, -0.3404, 5e-5);
  near(nhi, -0.0569, 5e-5);
  // Fagerland, Lydersen & Laake, "Statistical Analysis of Contingency Tables" (2017), chapter 8: complete
  // response before and after consolidation therapy (Cavo et al. 2012), 59 / 6 / 16 / 80; the square-and-add
  // interval for p(before) - p(after) is -0.0621 (-0.1186 to -0.0046), so after - before is 0.0046 to 0.1186.
  const [clo, chi] = newcombePairedInterval({ both: 59, onlyA: 6, onlyB: 16, neither: 80 });
  near(clo, 0.0046, 5e-5);
  near(chi, 0.1186, 5e-5);
  // No discordant items, all right (n = 5): the margins vanish so phi = 0, and each side is the
  // distance from 1 to the Wilson lower limit 5 / (5 + z^2): an honest [-0.4345, +0.4345], not [0, 0].
  const reach = 1 - 5 / (5 + Z95 * Z95);
  const [alo, ahi] = newcombePairedInterval({ both: 5, onlyA: 0, onlyB: 0, neither: 0 });
  near(alo, -reach, 1e-12);
  near(ahi, reach, 1e-12);
  // No discordant items, 2 right and 3 wrong under both: ad - bc = 6 > n/2, so phi = (6 - 2.5) / sqrt(2*3*2*3) = 7/12,
  // and each side is sqrt(x^2 - 2 phi x y + y^2) with x, y the distances of 0.4 to its Wilson limits.
  const [w0, w1] = wilsonInterval(2, 5);
  const x = 0.4 - w0,
    y = w1 - 0.4,
    side = Math.sqrt(x * x - 2 * (7 / 12) * x * y + y * y);
  const [mlo, mhi] = newcombePairedInterval({ both: 2, onlyA: 0, onlyB: 0, neither: 3 });
  near(mlo, -side, 1e-12);
  near(mhi, side, 1e-12);
  assert.ok(side > 0.2);
  assert.deepEqual(pairedTable([true, true, false, false], [true, false, true, false]), { both: 1, onlyA: 1, onlyB: 1, neither: 1 });
});
