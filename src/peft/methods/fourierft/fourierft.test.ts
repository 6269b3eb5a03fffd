import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { assertClose } from '../../../../test/helpers.js';
import { loadBase, zooFixture } from '../../../../test/zoo.js';
import { ConfigError } from '../../../errors.js';
import { loadSafetensors } from '../../../io/index.js';
import { Generator, noGrad, Tensor } from '../../../tensor/index.js';
import { getPeftModel, loadPeftModel } from '../../index.js';
import type { FourierFTLayer } from './layer.js';

const fx = zooFixture('llama-tiny-fourierft');
const ids = Tensor.from([3, 14, 15, 92, 65, 35, 89, 79, 32, 38, 46, 26], [2, 6], 'int32');
const run = (m: { forward: unknown }) => noGrad(() => (m.forward as (i: { inputIds: Tensor }) => Tensor)({ inputIds: ids })).contiguousData();
const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

test("the frequency indices rebuilt from random_loc_seed are exactly the ones PEFT drew (torch.randperm on PyTorch's generator)", () => {
  const derived = loadSafetensors(join(fx.dir, 'derived.safetensors'));
  const peft = loadPeftModel(loadBase(fx.base), fx.dir);
  assert.equal(derived.size, 4);
  for (const [key, expected] of derived) {
    const layer = peft.model.getSubmodule(key.replace(/\.fourierft_indices$/, '')) as FourierFTLayer;
    const { rows, cols } = layer.frequencyIndices('default');
    assert.deepEqual([...rows, ...cols], expected.toArray(), key);
  }
});

test('the update is scaling * Re ifft2 of the sparse spectrum, checked against a direct float64 sum; both forward paths agree with it', () => {
  const peft = loadPeftModel(loadBase(fx.base), fx.dir);
  const layer = peft.model.getSubmodule('model.layers.0.self_attn.v_proj') as FourierFTLayer;
  const { rows, cols } = layer.frequencyIndices('default');
  const s = layer.fourierft_spectrum.items.get('default')!.contiguousData();
  const [M, N] = [32, 64];
  const expected = new Float64Array(M * N);
  for (let a = 0; a < M; a++)
    for (let b = 0; b < N; b++) {
      let sum = 0;
      for (let j = 0; j < s.length; j++) sum += s[j] * Math.cos(2 * Math.PI * ((rows[j] * a) / M + (cols[j] * b) / N));
      expected[a * N + b] = (150 * sum) / (M * N);
    }
  const dW = layer.deltaWeight('default');
  assertClose(dW.contiguousData(), expected, 1e-5, 1e-4, 'delta weight');
  for (const rowsOfX of [3, 200]) {
    // below and above the size where forming dW is cheaper
    const x = Tensor.randn([rowsOfX, N], new Generator(rowsOfX));
    const delta = noGrad(() => layer.forward(x).sub(layer.base_layer.forward(x))).contiguousData();
    assertClose(delta, noGrad(() => x.matmul(dW.T)).contiguousData(), 1e-5, 1e-4, `${rowsOfX} rows`);
  }
});

test("init_weights: false (PEFT's default) draws the spectrum, true starts at zero; GPT-2's default target is mlp.c_proj", () => {
  const before = run(loadBase('gpt2-tiny'));
  const zero = getPeftModel(loadBase('gpt2-tiny'), { peft_type: 'FOURIERFT', n_frequency: 50, init_weights: true });
  assert.deepEqual(run(zero), before);
  assert.deepEqual(zero.config().target_modules, ['mlp.c_proj']);
  assert.deepEqual(
    zero.tunerLayers().map(([p]) => p),
    ['transformer.h.0.mlp.c_proj', 'transformer.h.1.mlp.c_proj'],
  );
  assert.ok(maxAbsDiff(run(getPeftModel(loadBase('gpt2-tiny'), { peft_type: 'FOURIERFT', n_frequency: 50 })), before) > 1e-3);
});

test('n_frequency_pattern sets per-module counts; bad FourierFT configs are ConfigErrors naming the field', () => {
  const peft = getPeftModel(loadBase('llama-tiny'), { peft_type: 'FOURIERFT', n_frequency: 20, n_frequency_pattern: { v_proj: 7 }, target_modules: ['q_proj', 'v_proj'] });
  const sizes = Object.fromEntries([...peft.adapterStateDict('default')].map(([k, t]) => [k.split('.').slice(-2, -1)[0], t.size]));
  assert.deepEqual(sizes, { q_proj: 20, v_proj: 7 });
  assert.throws(
    () => getPeftModel(loadBase('llama-tiny'), { peft_type: 'FOURIERFT', n_frequency: 5000, target_modules: ['v_proj'] }),
    (e: unknown) => e instanceof ConfigError && /n_frequency 5000 exceeds the 32 x 64 = 2048/.test(e.message),
  );
  assert.throws(
    () => getPeftModel(loadBase('llama-tiny'), { peft_type: 'FOURIERFT', target_modules: '.*v_proj', layers_to_transform: [0] }),
    (e: unknown) => e instanceof ConfigError && /layers_to_transform cannot be used when target_modules is a regex/.test(e.message),
  );
  // biome-ignore format: the error this expects must stay on the line below the directive
  // @ts-expect-error a value outside the field's choices
  assert.throws(() => getPeftModel(loadBase('llama-tiny'), { peft_type: 'FOURIERFT', bias: 'lora_only' }), (e: unknown) => e instanceof ConfigError && /bias must be "none", "all", "fourier_only"/.test(e.message));
});
