import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertClose } from '../../../../test/helpers.js';
import { loadBase, zooFixture } from '../../../../test/zoo.js';
import { ArgumentError, ConfigError } from '../../../errors.js';
import { readHeader } from '../../../io/index.js';
import { Generator, noGrad, Tensor } from '../../../tensor/index.js';
import { getPeftModel, loadPeftModel, saveAdapters } from '../../index.js';
import { mixBank, VbloraLayer } from './layer.js';

const fixture = zooFixture('llama-tiny-vblora');

test('each piece is the softmax over its top-k logits of the chosen bank vectors; the rest weigh nothing and get no gradient', () => {
  const gen = new Generator(1);
  const logits = Tensor.randn([3, 6], gen),
    bank = Tensor.randn([6, 4], gen);
  logits.requiresGrad = true;
  const mixed = mixBank(logits, bank, 2);
  const l = logits.contiguousData(),
    b = bank.contiguousData();
  const expected: number[] = [];
  for (let row = 0; row < 3; row++) {
    const top = [0, 1, 2, 3, 4, 5].sort((i, j) => l[row * 6 + j] - l[row * 6 + i]).slice(0, 2);
    const w = top.map((i) => Math.exp(l[row * 6 + i]));
    const total = w[0] + w[1];
    for (let c = 0; c < 4; c++) expected.push(top.reduce((s, i, t) => s + (w[t] / total) * b[i * 4 + c], 0));
  }
  assertClose(mixed.contiguousData(), expected, 1e-6, 0, 'mix');
  mixed.sum().backward();
  const g = logits.grad!.contiguousData();
  for (let row = 0; row < 3; row++) {
    const top = new Set([0, 1, 2, 3, 4, 5].sort((i, j) => l[row * 6 + j] - l[row * 6 + i]).slice(0, 2));
    for (let i = 0; i < 6; i++) if (!top.has(i)) assert.equal(g[row * 6 + i], 0);
  }
});

test('the bank is shared: every layer of the adapter mixes the same tensor, and it trains with the adapter', () => {
  const peft = getPeftModel(loadBase(fixture.base), { peft_type: 'VBLORA', r: 2, num_vectors: 8, vector_length: 16, target_modules: ['q_proj', 'v_proj'] });
  const bank = peft.adapterStateDict('default').get('base_model.vblora_vector_bank')!;
  assert.ok(bank.requiresGrad);
  const bound = Math.max(...bank.contiguousData().map(Math.abs));
  assert.ok(bound <= 0.02 && bound > 0, 'uniform in [-0.02, 0.02]');
  // Changing the bank changes every layer's delta.
  const layers = peft.tunerLayers().map(([, l]) => l as VbloraLayer);
  const before = layers.map((l) => l.deltaWeight('default').contiguousData());
  (bank.data as Float32Array)[0] += 1;
  layers.forEach((l, i) =>
    assert.ok(
      l
        .deltaWeight('default')
        .contiguousData()
        .some((v, j) => v !== before[i][j]),
      `layer ${i} uses the bank`,
    ),
  );
});

test('vector_length must divide in_features and out_features of every target (ConfigError naming the field, nothing wrapped)', () => {
  const model = loadBase(fixture.base);
  assert.throws(
    () => getPeftModel(model, { peft_type: 'VBLORA', vector_length: 24, target_modules: ['q_proj'] }),
    (e: Error) => e instanceof ConfigError && /vector_length = 24 does not divide in_features = 64/.test(e.message),
  );
  assert.ok(model.namedModules().every(([, m]) => !(m instanceof VbloraLayer)));
  assert.throws(
    () => getPeftModel(loadBase(fixture.base), { peft_type: 'VBLORA', num_vectors: 4, topk: 5, vector_length: 16 }),
    (e: Error) => e instanceof ConfigError && /topk/.test(e.message),
  );
});

test("save_only_topk_weights writes PEFT's top-k form (U8 indices, k - 1 weights), which loads back to the same outputs but refuses to train", () => {
  const ids = Tensor.from([3, 14, 15, 92, 65, 35], [1, 6], 'int32');
  const peft = getPeftModel(loadBase(fixture.base), { peft_type: 'VBLORA', r: 2, num_vectors: 8, topk: 3, vector_length: 16, save_only_topk_weights: true, target_modules: ['q_proj', 'v_proj'] });
  const out = noGrad(() => peft.forward({ inputIds: ids })).contiguousData();
  const dir = mkdtempSync(join(tmpdir(), 'peft-ts-vblora-'));
  saveAdapters(peft, dir);
  const header = readHeader(join(dir, 'adapter_model.safetensors')).tensors;
  const q = 'base_model.model.model.layers.0.self_attn.q_proj.vblora_logits_A';
  assert.deepEqual([header.get(`${q}_topk_indices`)!.dtype, header.get(`${q}_topk_indices`)!.shape], ['U8', [2, 4, 3]]);
  assert.deepEqual([header.get(`${q}_topk_weights`)!.dtype, header.get(`${q}_topk_weights`)!.shape], ['F32', [2, 4, 2]]);
  assert.ok(!header.has(q) && header.has('base_model.vblora_vector_bank'));
  const loaded = loadPeftModel(loadBase(fixture.base), dir);
  assertClose(noGrad(() => loaded.forward({ inputIds: ids })).contiguousData(), out, 1e-5, 0, 'top-k reload');
  loaded.model.train(true);
  assert.throws(
    () => loaded.forward({ inputIds: ids }),
    (e: Error) => e instanceof ArgumentError && /save_only_topk_weights/.test(e.message),
  );
});
