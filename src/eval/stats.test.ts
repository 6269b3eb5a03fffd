import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brierScore, expectedCalibrationError } from './calibration.js';
import { bootstrapInterval, clusteredMean, mcnemarExact, meanWithError, normalQuantile, pairedDelta, sampleSizeForDelta } from './stats.js';

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
  near(brierScore([[0.9, 0.1], [0.2, 0.8]], [0, 0]), (0.02 + 1.28) / 2);
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
  const a = bootstrapInterval(values, undefined, { seed: 1 }), b = bootstrapInterval(values, undefined, { seed: 1 });
  assert.deepEqual(a, b);
  assert.ok(a[0] < 0.5 && a[1] > 0.5 && a[1] - a[0] < 0.25 && a[1] - a[0] > 0.12, `${a}`);
  assert.deepEqual(bootstrapInterval([3, 3, 3], undefined, { resamples: 50 }), [3, 3]);
});
