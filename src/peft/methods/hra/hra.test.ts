import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { assertClose, fixturesDir } from '../../../../test/helpers.js';
import { loadBase, zooFixture } from '../../../../test/zoo.js';
import { ConfigError } from '../../../errors.js';
import { Linear } from '../../../nn/index.js';
import { loadPretrained } from '../../../models/index.js';
import { Generator, noGrad, Tensor } from '../../../tensor/index.js';
import { getPeftModel } from '../../index.js';
import { HraLayer } from './layer.js';

const fixture = zooFixture('llama-tiny-hra');

function layerWith(r: number, applyGS: boolean, init: boolean): HraLayer {
  const base = new Linear(6, 4, true);
  const gen = new Generator(2);
  (base.weight.data as Float32Array).set(Tensor.randn([4, 6], gen).contiguousData());
  const layer = new HraLayer(base);
  layer.addAdapter('a', r, applyGS, init, gen);
  layer.active = ['a'];
  return layer;
}

/** The reflection product by hand in float64: prod_i (I - 2 u_i u_i^T / |u_i|^2). */
function reflectionsByHand(u: Float32Array, n: number, r: number): number[] {
  let H: number[] = Array.from({ length: n * n }, (_, i) => (Math.floor(i / n) === i % n ? 1 : 0));
  for (let k = 0; k < r; k++) {
    const v = Array.from({ length: n }, (_, i) => u[i * r + k]);
    const norm2 = v.reduce((s, a) => s + a * a, 0);
    const Hv = Array.from({ length: n }, (_, i) => v.reduce((s, a, j) => s + H[i * n + j] * a, 0));
    H = H.map((h, idx) => h - (2 * Hv[Math.floor(idx / n)] * v[idx % n]) / norm2);
  }
  return H;
}

test('the weight becomes W @ H_0 ... H_{r-1}; unmerge uses the reverse product; GS gives a symmetric involution', () => {
  const layer = layerWith(3, false, false);
  const H = noGrad(() => layer.reflection('a'));
  assertClose(H.contiguousData(), reflectionsByHand(layer.hra_u.items.get('a')!.contiguousData(), 6, 3), 1e-6, 0, 'H');
  assertClose(noGrad(() => H.matmul(layer.reflection('a', true))).contiguousData(), reflectionsByHand(new Float32Array(18), 6, 0), 1e-6, 0, 'H H_reverse = I');
  const x = Tensor.randn([2, 6], new Generator(4));
  const W = layer.baseLayer().weight;
  assertClose(noGrad(() => layer.forward(x)).contiguousData(), noGrad(() => x.matmul(W.matmul(H).T).add(layer.baseLayer().bias!)).contiguousData(), 1e-5, 0, 'forward');
  const gs = noGrad(() => layerWith(4, true, false).reflection('a'));
  assertClose(gs.contiguousData(), gs.T.contiguous().contiguousData(), 1e-6, 0, 'GS H symmetric');
  assertClose(noGrad(() => gs.matmul(gs)).contiguousData(), reflectionsByHand(new Float32Array(24), 6, 0), 1e-5, 0, 'GS H^2 = I');
});

test("PEFT's paired init makes a fresh adapter the identity for even r (without GS, where a pair orthogonalises to noise, as in PEFT); odd r and init_weights false are random", () => {
  const x = Tensor.randn([2, 6], new Generator(4));
  const baseOut = (l: HraLayer) => noGrad(() => l.baseLayer().forward(x)).contiguousData();
  const paired = layerWith(4, false, true);
  assertClose(noGrad(() => paired.forward(x)).contiguousData(), baseOut(paired), 1e-5, 0, 'paired');
  const u = layerWith(4, false, true).hra_u.items.get('a')!.contiguousData();
  for (let i = 0; i < 6; i++) assert.equal(u[i * 4], u[i * 4 + 1]);
  for (const [r, init] of [
    [3, true],
    [4, false],
  ] as const) {
    const l = layerWith(r, false, init);
    assert.ok(
      noGrad(() => l.forward(x))
        .contiguousData()
        .some((v, i) => Math.abs(v - baseOut(l)[i]) > 1e-3),
      `r=${r} init=${init} is not the identity`,
    );
  }
});

test("HRA refuses GPT-2's Conv1D as PEFT does, before wrapping anything; r must be positive", () => {
  const gpt2 = loadPretrained(join(fixturesDir, 'gpt2-tiny')).model;
  assert.throws(
    () => getPeftModel(gpt2, { peft_type: 'HRA', target_modules: ['c_attn'] }),
    (e: Error) => e instanceof ConfigError && /Conv1D/.test(e.message),
  );
  assert.ok(gpt2.namedModules().every(([, m]) => !(m instanceof HraLayer)));
  assert.throws(
    () => getPeftModel(loadBase(fixture.base), { peft_type: 'HRA', r: 0 }),
    (e: Error) => e instanceof ConfigError && /\br must be/.test(e.message),
  );
});
