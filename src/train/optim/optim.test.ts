import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../tensor/index.js';
import { AdamW, clipGradNorm, lrMultiplier, SGD } from './index.js';

const param = (values: number[]) => {
  const t = Tensor.from(values);
  t.requiresGrad = true;
  return t;
};
const close = (a: number[], b: number[], tol = 1e-6) => a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= tol, `element ${i}: ${x} vs ${b[i]}`));

test('AdamW matches two steps computed by hand (PyTorch semantics: decoupled decay, bias correction)', () => {
  const p = param([1, -2]);
  const opt = new AdamW([p], { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 });
  // step 1, g = (0.5, 0.1): p <- p*(1 - lr*wd); m = 0.1 g, v = 0.001 g^2; m_hat = g, v_hat = g^2; p -= lr * g/(|g| + eps)
  p.grad = Tensor.from([0.5, 0.1]);
  opt.update();
  const s1 = [1 * 0.999 - (0.1 * 0.5) / (0.5 + 1e-8), -2 * 0.999 - (0.1 * 0.1) / (0.1 + 1e-8)];
  close(p.toArray(), s1);
  // step 2, g = (-0.2, 0.3)
  p.grad = Tensor.from([-0.2, 0.3]);
  opt.update();
  const m = [0.9 * 0.05 + 0.1 * -0.2, 0.9 * 0.01 + 0.1 * 0.3];
  const v = [0.999 * 0.00025 + 0.001 * 0.04, 0.999 * 0.00001 + 0.001 * 0.09];
  const c1 = 1 - 0.9 ** 2,
    c2 = 1 - 0.999 ** 2;
  const s2 = s1.map((w, i) => w * 0.999 - (0.1 * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + 1e-8));
  close(p.toArray(), s2, 1e-6);
});

test('AdamW state round-trips, so a resumed optimiser continues identically', () => {
  const a = param([0.3, 0.7]),
    b = param([0.3, 0.7]);
  const oa = new AdamW([a], { lr: 0.05 }),
    ob = new AdamW([b], { lr: 0.05 });
  for (const g of [
    [0.1, -0.4],
    [0.2, 0.2],
  ]) {
    a.grad = Tensor.from(g);
    oa.update();
    b.grad = Tensor.from(g);
    ob.update();
  }
  const resumed = new AdamW([b], { lr: 0.05 });
  resumed.loadState(ob.state());
  a.grad = Tensor.from([-0.3, 0.5]);
  oa.update();
  b.grad = Tensor.from([-0.3, 0.5]);
  resumed.update();
  assert.deepEqual(b.toArray(), a.toArray());
  assert.throws(() => resumed.loadState({ step: 1, buffers: { exp_avg: [new Float32Array(3)], exp_avg_sq: [new Float32Array(3)] } }), /does not fit/);
});

test('SGD with momentum matches torch.optim.SGD by hand', () => {
  const p = param([1]);
  const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
  p.grad = Tensor.from([1]);
  opt.update(); // b = 1, p = 0.9
  p.grad = Tensor.from([1]);
  opt.update(); // b = 1.9, p = 0.71
  close(p.toArray(), [0.71]);
});

test('schedules at their boundaries', () => {
  const s = (name: 'constant' | 'linear' | 'cosine') => ({ name, warmupSteps: 10, totalSteps: 110 });
  for (const name of ['constant', 'linear', 'cosine'] as const) {
    assert.equal(lrMultiplier(s(name), 0), 0, `${name} starts warmup at 0`);
    assert.equal(lrMultiplier(s(name), 5), 0.5, `${name} half way through warmup`);
    assert.equal(lrMultiplier(s(name), 10), 1, `${name} peak after warmup`);
  }
  assert.equal(lrMultiplier(s('constant'), 110), 1);
  assert.equal(lrMultiplier(s('linear'), 60), 0.5);
  assert.equal(lrMultiplier(s('linear'), 110), 0);
  assert.ok(Math.abs(lrMultiplier(s('cosine'), 60) - 0.5) < 1e-12);
  assert.ok(Math.abs(lrMultiplier(s('cosine'), 110)) < 1e-12);
  assert.equal(lrMultiplier({ name: 'linear', warmupSteps: 0, totalSteps: 4 }, 0), 1);
});

test('clipping scales gradients to the global norm and leaves small ones alone', () => {
  const a = param([0, 0]),
    b = param([0]);
  a.grad = Tensor.from([3, 0]);
  b.grad = Tensor.from([4]);
  assert.equal(clipGradNorm([a, b], 1), 5);
  close([...a.grad.toArray(), ...b.grad.toArray()], [3 / (5 + 1e-6), 0, 4 / (5 + 1e-6)]);
  a.grad = Tensor.from([0.3, 0]);
  b.grad = Tensor.from([0.4]);
  assert.ok(Math.abs(clipGradNorm([a, b], 1) - 0.5) < 1e-7);
  assert.deepEqual(
    a.grad.toArray().map((x) => +x.toFixed(6)),
    [0.3, 0],
  );
});

test('per-parameter lrScales: a parameter with scale s steps as with learning rate s*lr (AdamW and SGD)', () => {
  for (const make of [
    (ps: Tensor[], lrScales?: number[]) => new AdamW(ps, { lr: 0.1, weightDecay: 0.01, lrScales }),
    (ps: Tensor[], lrScales?: number[]) => new SGD(ps, { lr: 0.1, momentum: 0.9, lrScales }),
  ]) {
    const a = param([1, -2]),
      b = param([1, -2]),
      ref = param([1, -2]);
    const opt = make([a, b], [1, 0.25]);
    const refOpt = make([ref]);
    refOpt.lr = 0.025;
    for (const g of [
      [0.5, 0.1],
      [-0.2, 0.3],
    ]) {
      a.grad = Tensor.from(g);
      b.grad = Tensor.from(g);
      ref.grad = Tensor.from(g);
      opt.update();
      refOpt.update();
    }
    close(b.toArray(), ref.toArray(), 1e-7);
    assert.notDeepEqual(a.toArray(), b.toArray());
  }
  assert.throws(() => new AdamW([param([1])], { lrScales: [1, 2] }), /one non-negative multiplier per parameter/);
});
