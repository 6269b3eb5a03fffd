import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose } from '../../../../test/helpers.js';
import { loadBase, zooFixture } from '../../../../test/zoo.js';
import { ConfigError } from '../../../errors.js';
import type { Linear } from '../../../nn/index.js';
import { Generator, linear, noGrad, Tensor } from '../../../tensor/index.js';
import { getPeftModel, loadPeftModel, type PeftModel } from '../../index.js';
import type { IA3Layer } from './layer.js';

const ids = Tensor.from([3, 14, 15, 92, 65, 35, 89, 79, 32, 38, 46, 26], [2, 6], 'int32');
const run = (m: { forward: unknown }, input = ids) => noGrad(() => (m.forward as (i: { inputIds: Tensor }) => Tensor)({ inputIds: input })).contiguousData();
const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const layerAt = (peft: PeftModel, path: string) => peft.model.getSubmodule(path) as IA3Layer;

test('feed-forward targets scale the input, the others the output (bias included); list entries match path endings as in PEFT', () => {
  const peft = loadPeftModel(loadBase('bert-tiny'), zooFixture('bert-tiny-ia3').dir);
  // 'output.dense' also ends 'attention.output.dense', so PEFT treats both as feed-forward.
  for (const path of ['bert.encoder.layer.0.attention.output.dense', 'bert.encoder.layer.0.output.dense']) assert.equal(layerAt(peft, path).isFeedforward, true, path);
  const key = layerAt(peft, 'bert.encoder.layer.0.attention.self.key');
  assert.equal(key.isFeedforward, false);
  const ff = layerAt(peft, 'bert.encoder.layer.0.output.dense');
  for (const [layer, scalesInput] of [
    [key, false],
    [ff, true],
  ] as const) {
    const base = layer.base_layer as Linear;
    const l = layer.ia3_l.items.get('default')!;
    const x = Tensor.randn([3, base.inFeatures], new Generator(1));
    const flat = l.reshape([l.size]);
    const expected = scalesInput ? linear(x.mul(flat), base.weight, base.bias!) : linear(x, base.weight, base.bias!).mul(flat);
    assertClose(noGrad(() => layer.forward(x)).contiguousData(), expected.contiguousData(), 1e-6, 1e-6, scalesInput ? 'input scaled' : 'output scaled');
  }
});

test("defaults: PEFT's targets and feed-forward modules per model; a fresh adapter (ones) leaves the output exactly unchanged", () => {
  for (const [name, targets, feedforward, fanInFanOut, layers] of [
    ['gpt2-tiny', ['c_attn', 'mlp.c_proj'], ['mlp.c_proj'], true, 4],
    ['llama-tiny', ['k_proj', 'v_proj', 'down_proj'], ['down_proj'], false, 6],
  ] as const) {
    const model = loadBase(name);
    const before = run(model);
    const peft = getPeftModel(model, { peft_type: 'IA3' });
    const config = peft.config() as unknown as Record<string, unknown>;
    assert.deepEqual(config.target_modules, targets);
    assert.deepEqual(config.feedforward_modules, feedforward);
    assert.equal(config.fan_in_fan_out, fanInFanOut);
    assert.equal(peft.tunerLayers().length, layers, 'mlp.c_proj does not widen to attn.c_proj');
    assert.deepEqual(run(peft), before);
    // A second adapter sees the first one's wrappers, and still reads the layout of the layers beneath.
    peft.addAdapter('second', { peft_type: 'IA3' });
    assert.equal((peft.config('second') as unknown as Record<string, unknown>).fan_in_fan_out, fanInFanOut);
  }
  const random = getPeftModel(loadBase('llama-tiny'), { peft_type: 'IA3', init_ia3_weights: false });
  assert.ok(maxAbsDiff(run(random), run(loadBase('llama-tiny'))) > 1e-3, 'init_ia3_weights=false draws random vectors');
});

test('two active adapters multiply their vectors', () => {
  const peft = getPeftModel(loadBase('llama-tiny'), { peft_type: 'IA3', init_ia3_weights: false }, { seed: 1 });
  peft.addAdapter('other', { peft_type: 'IA3', init_ia3_weights: false });
  const layer = layerAt(peft, 'model.layers.0.self_attn.v_proj');
  const x = Tensor.randn([2, 64], new Generator(3));
  const la = layer.ia3_l.items.get('default')!,
    lb = layer.ia3_l.items.get('other')!;
  peft.setAdapter(['default', 'other']);
  const expected = layer.base_layer
    .forward(x)
    .mul(la.reshape([la.size]))
    .mul(lb.reshape([lb.size]));
  assertClose(noGrad(() => layer.forward(x)).contiguousData(), expected.contiguousData(), 1e-6, 1e-6, 'product');
});

test('bad IA3 configs are ConfigErrors naming the field', () => {
  const llama = () => loadBase('llama-tiny');
  assert.throws(
    () => getPeftModel(llama(), { peft_type: 'IA3', target_modules: ['k_proj'], feedforward_modules: ['down_proj'] }),
    (e: unknown) => e instanceof ConfigError && /feedforward_modules must be a subset of target_modules/.test(e.message) && /down_proj/.test(e.message),
  );
  assert.throws(
    () => getPeftModel(llama(), { peft_type: 'IA3', target_modules: ['embed_tokens'], feedforward_modules: [] }),
    (e: unknown) => e instanceof ConfigError && /embed_tokens' is a Embedding; IA3 wraps Linear and Conv1D/.test(e.message),
  );
  // biome-ignore format: the error this expects must stay on the line below the directive
  // @ts-expect-error a misspelt field
  assert.throws(() => getPeftModel(llama(), { peft_type: 'IA3', init_ia3_weight: false }), (e: unknown) => e instanceof ConfigError && /Did you mean 'init_ia3_weights'/.test(e.message));
  assert.throws(
    () => getPeftModel(llama(), { peft_type: 'IA3', layers_to_transform: [0] }),
    (e: unknown) => e instanceof ConfigError && /unknown config field 'layers_to_transform'/.test(e.message),
  );
  const peft = getPeftModel(llama(), { peft_type: 'IA3' });
  assert.throws(
    () => peft.addAdapter('other', { peft_type: 'IA3', feedforward_modules: [] }),
    (e: unknown) => e instanceof ConfigError && /down_proj' already holds an adapter with feedforward true/.test(e.message),
  );
});
