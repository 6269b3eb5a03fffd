import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose } from '../../../../test/helpers.js';
import { loadBase, zooFixture } from '../../../../test/zoo.js';
import { getPeftModel, loadPeftModel } from '../../index.js';
import { factorization } from './factorization.js';
import type { LoKrLayer } from './layer.js';

const fx = zooFixture('llama-tiny-lokr');

test("factorization gives LyCORIS/PEFT's factor pairs", () => {
  // PEFT's docstring examples, the sizes of common models, and PEFT's unswapped positive-factor branch.
  const cases: [number, number, [number, number]][] = [
    [256, -1, [16, 16]],
    [128, -1, [8, 16]],
    [127, -1, [1, 127]],
    [128, 4, [4, 32]],
    [176, -1, [11, 16]],
    [4096, -1, [64, 64]],
    [768, -1, [24, 32]],
    [2304, -1, [48, 48]],
    [3072, -1, [48, 64]],
    [64, 16, [16, 4]],
    [100, 8, [5, 20]],
    [30, -3, [1, 30]],
  ];
  for (const [dim, factor, expected] of cases) assert.deepEqual(factorization(dim, factor), expected, `${dim}, factor ${factor}`);
});

test('the update is s * kron(W1, W2), computed here in float64 from the saved factors', () => {
  const peft = loadPeftModel(loadBase(fx.base), fx.dir);
  const layer = peft.model.getSubmodule('model.layers.0.self_attn.v_proj') as LoKrLayer;
  const w1 = layer.lokr_w1.items.get('default')!,
    a = layer.lokr_w2_a.items.get('default')!,
    b = layer.lokr_w2_b.items.get('default')!;
  const [p, q] = w1.shape,
    [s, r] = a.shape,
    t = b.shape[1];
  const scale = 16 / 2; // rank_pattern gives v_proj r = 2
  const expected = new Float64Array(p * s * q * t);
  for (let i = 0; i < p; i++)
    for (let j = 0; j < q; j++)
      for (let k = 0; k < s; k++)
        for (let l = 0; l < t; l++) {
          let w2 = 0;
          for (let c = 0; c < r; c++) w2 += a.contiguousData()[k * r + c] * b.contiguousData()[c * t + l];
          expected[(i * s + k) * (q * t) + j * t + l] = scale * w1.contiguousData()[i * q + j] * w2;
        }
  assertClose(layer.deltaWeight('default').contiguousData(), expected, 1e-6, 1e-5, 'delta weight');
});

test('factor shapes follow r, decompose_both and decompose_factor as in PEFT', () => {
  const shapes = (config: Record<string, unknown>) => {
    const peft = getPeftModel(loadBase('llama-tiny'), { peft_type: 'LOKR', target_modules: ['up_proj'], ...config });
    return Object.fromEntries([...peft.adapterStateDict('default')].filter(([k]) => k.includes('layers.0.')).map(([k, t]) => [k.split('.').pop(), t.shape]));
  };
  // up_proj: in 64 = 8 x 8, out 176 = 11 x 16.
  assert.deepEqual(shapes({ r: 8 }), { lokr_w1: [11, 8], lokr_w2: [16, 8] });
  assert.deepEqual(shapes({ r: 2 }), { lokr_w1: [11, 8], lokr_w2_a: [16, 2], lokr_w2_b: [2, 8] });
  assert.deepEqual(shapes({ r: 2, decompose_both: true }), { lokr_w1_a: [11, 2], lokr_w1_b: [2, 8], lokr_w2_a: [16, 2], lokr_w2_b: [2, 8] });
  // decompose_factor 4: in 64 = 4 x 16, out 176 = 4 x 44.
  assert.deepEqual(shapes({ r: 32, decompose_factor: 4 }), { lokr_w1: [4, 4], lokr_w2: [44, 16] });
  assert.deepEqual(shapes({ r: 8, decompose_factor: 4 }), { lokr_w1: [4, 4], lokr_w2_a: [44, 8], lokr_w2_b: [8, 16] });
});

test('init_weights "lycoris" zeroes the right factor instead of the left: still no change at start', () => {
  const peft = getPeftModel(loadBase('llama-tiny'), { peft_type: 'LOKR', r: 2, init_weights: 'lycoris' });
  const layer = peft.model.getSubmodule('model.layers.0.self_attn.q_proj') as LoKrLayer;
  assert.ok(
    layer.lokr_w1.items
      .get('default')!
      .contiguousData()
      .some((v) => v !== 0),
  );
  assert.ok(
    layer.lokr_w2_b.items
      .get('default')!
      .contiguousData()
      .every((v) => v === 0),
  );
  assert.ok(
    layer
      .deltaWeight('default')
      .contiguousData()
      .every((v) => v === 0),
  );
});
