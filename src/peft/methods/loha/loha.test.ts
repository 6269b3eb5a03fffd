import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose } from '../../../../test/helpers.js';
import { loadBase, zooFixture } from '../../../../test/zoo.js';
import { loadPeftModel } from '../../index.js';
import type { LoHaLayer } from './layer.js';

const fx = zooFixture('llama-tiny-loha');

test('the update is s * (W1a W1b) ⊙ (W2a W2b), computed here in float64 from the saved factors', () => {
  const peft = loadPeftModel(loadBase(fx.base), fx.dir);
  const layer = peft.model.getSubmodule('model.layers.1.self_attn.v_proj') as LoHaLayer;
  const [w1a, w1b, w2a, w2b] = [layer.hada_w1_a, layer.hada_w1_b, layer.hada_w2_a, layer.hada_w2_b].map((d) => d.items.get('default')!);
  const [out, r] = w1a.shape,
    inF = w1b.shape[1];
  const scale = 16 / 8;
  const expected = new Float64Array(out * inF);
  for (let i = 0; i < out; i++) {
    for (let j = 0; j < inF; j++) {
      let p1 = 0,
        p2 = 0;
      for (let k = 0; k < r; k++) {
        p1 += w1a.contiguousData()[i * r + k] * w1b.contiguousData()[k * inF + j];
        p2 += w2a.contiguousData()[i * r + k] * w2b.contiguousData()[k * inF + j];
      }
      expected[i * inF + j] = scale * p1 * p2;
    }
  }
  const actual = layer.deltaWeight('default');
  assert.deepEqual(actual.shape, [out, inF]);
  assertClose(actual.contiguousData(), expected, 1e-6, 1e-5, 'delta weight');
});
