import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertClose } from '../../../../test/helpers.js';
import { assertAdapterGradients, assertSaveLoadExact, assertTrainableCount, assertZooReproduces, loadBase, zooFixture } from '../../../../test/zoo.js';
import { assertMatchesFixture, expectedOf, fixtureLogits } from '../../../../test/fixtures.js';
import { ConfigError } from '../../../errors.js';
import { loadSafetensors, saveSafetensors } from '../../../io/index.js';
import type { PretrainedModel } from '../../../models/index.js';
import { Generator, noGrad, Tensor } from '../../../tensor/index.js';
import { getPeftModel, loadPeftModel, saveAdapters } from '../../index.js';
import { VeraLayer } from './layer.js';

const fx = zooFixture('llama-tiny-vera');
const ids = Tensor.from([3, 14, 15, 92, 65, 35, 89, 79, 32, 38, 46, 26], [2, 6], 'int32');
const run = (m: { forward: unknown }) => noGrad(() => (m.forward as (i: { inputIds: Tensor }) => Tensor)({ inputIds: ids })).contiguousData();
const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

test(`${fx.folder}: HF PEFT's adapter reproduces PyTorch's logits; trains only the lambdas; save -> load is bit-exact with base_model.vera_A/B`, () => {
  assertZooReproduces(fx);
  assertTrainableCount(fx, /^base_model\.vera_[AB]$/);
  assertSaveLoadExact(fx);
});

test("the projections drawn from projection_prng_key are bit-identical to the ones PEFT saved (PyTorch's generator and kaiming_uniform_)", () => {
  const saved = loadSafetensors(join(fx.dir, 'adapter_model.safetensors'));
  const fresh = getPeftModel(loadBase('llama-tiny'), { peft_type: 'VERA', r: 16, target_modules: ['v_proj', 'q_proj'] }).adapterStateDict('default');
  for (const key of ['base_model.vera_A', 'base_model.vera_B']) {
    assert.deepEqual(fresh.get(key)!.shape, saved.get(key)!.shape, key);
    assert.deepEqual(fresh.get(key)!.contiguousData(), saved.get(key)!.contiguousData(), key);
  }
});

test('save_projection=false: the file holds only the lambdas and loading regenerates the projections, here and from a PEFT-style file', () => {
  // A PEFT file written with save_projection=false: the fixture without vera_A/B.
  const dir = mkdtempSync(join(tmpdir(), 'peft-ts-vera-'));
  const config = JSON.parse(readFileSync(join(fx.dir, 'adapter_config.json'), 'utf8'));
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...config, save_projection: false }));
  const tensors = loadSafetensors(join(fx.dir, 'adapter_model.safetensors'));
  saveSafetensors(join(dir, 'adapter_model.safetensors'), new Map([...tensors].filter(([k]) => !k.startsWith('base_model.vera_'))), { format: 'pt' });
  const peft = loadPeftModel(loadBase('llama-tiny'), dir);
  assertMatchesFixture(fixtureLogits(peft.model.forward.bind(peft.model) as PretrainedModel['forward'], expectedOf(fx.folder)), expectedOf(fx.folder), 'regenerated projections');
  const out = mkdtempSync(join(tmpdir(), 'peft-ts-vera-'));
  saveAdapters(peft, out);
  assert.ok([...loadSafetensors(join(out, 'adapter_model.safetensors')).keys()].every((k) => !k.startsWith('base_model.vera_')));
});

test('the update is (lambda_b ⊙ B_s)(lambda_d ⊙ A_s) with A_s, B_s slices of the shared projections; every layer shares them', () => {
  const peft = loadPeftModel(loadBase('llama-tiny'), fx.dir);
  const state = peft.adapterStateDict('default');
  const A = state.get('base_model.vera_A')!.contiguousData(), B = state.get('base_model.vera_B')!.contiguousData();
  const layer = peft.model.getSubmodule('model.layers.1.self_attn.v_proj') as VeraLayer;
  const lb = layer.vera_lambda_b.items.get('default')!.contiguousData(), ld = layer.vera_lambda_d.items.get('default')!.contiguousData();
  const [out, inF, r, inMax] = [32, 64, 16, 64];
  const expected = new Float64Array(out * inF);
  for (let i = 0; i < out; i++) for (let j = 0; j < inF; j++) {
    let s = 0;
    for (let k = 0; k < r; k++) s += B[i * r + k] * ld[k] * A[k * inMax + j];
    expected[i * inF + j] = lb[i] * s;
  }
  assertClose(layer.deltaWeight('default').contiguousData(), expected, 1e-6, 1e-5, 'delta weight');
  const x = Tensor.randn([3, 64], new Generator(4));
  const viaDelta = noGrad(() => layer.forward(x).sub(layer.base_layer.forward(x))).contiguousData();
  assertClose(viaDelta, noGrad(() => x.matmul(layer.deltaWeight('default').T)).contiguousData(), 1e-5, 1e-5, 'forward adds x dW^T');
});

test('a fresh adapter changes nothing (lambda_b = 0, lambda_d = d_initial); merge/unmerge; GPT-2 Conv1D works', () => {
  for (const [name, targets] of [['llama-tiny', ['q_proj', 'v_proj', 'down_proj']], ['gpt2-tiny', ['c_attn', 'c_fc']]] as const) {
    const model = loadBase(name);
    const before = run(model);
    const weight = (model.stateDict().get(name === 'gpt2-tiny' ? 'transformer.h.0.attn.c_attn.weight' : 'model.layers.0.self_attn.q_proj.weight')!).contiguousData().slice();
    const peft = getPeftModel(model, { peft_type: 'VERA', r: 8, target_modules: [...targets] });
    assert.deepEqual(run(peft), before, `${name}: fresh adapter`);
    const layer = peft.tunerLayers()[0][1] as VeraLayer;
    assert.deepEqual([...layer.vera_lambda_d.items.get('default')!.contiguousData()], new Array(8).fill(Math.fround(0.1)));
    for (const [, l] of peft.tunerLayers()) {
      const lb = (l as VeraLayer).vera_lambda_b.items.get('default')!;
      lb.data.forEach((_, i) => { lb.data[i] = Math.sin(i + 1); });
    }
    const adapted = run(peft);
    assert.ok(maxAbsDiff(adapted, before) > 1e-3, `${name}: the adapter acts`);
    peft.merge();
    assert.ok(maxAbsDiff(run(peft), adapted) < 1e-5, `${name}: merged vs unmerged ${maxAbsDiff(run(peft), adapted)}`);
    peft.unmerge();
    assert.ok(maxAbsDiff((layer.baseLayer() as unknown as { weight: Tensor }).weight.contiguousData(), weight) < 1e-6, `${name}: unmerge restores`);
    assert.equal((peft.config() as unknown as { fan_in_fan_out: boolean }).fan_in_fan_out, name === 'gpt2-tiny');
  }
});

test('gradients of lambda_b and lambda_d match finite differences through the model; vera_A/B stay frozen', () => {
  const peft = getPeftModel(loadBase('llama-tiny'), { peft_type: 'VERA', r: 4, init_weights: false, target_modules: ['v_proj'], layers_to_transform: [1] });
  assert.deepEqual(peft.model.trainableParameters().map(([n]) => n).sort(), ['model.layers.1.self_attn.v_proj.vera_lambda_b.default', 'model.layers.1.self_attn.v_proj.vera_lambda_d.default']);
  assertAdapterGradients(peft, Tensor.from([5, 17, 300, 42], [1, 4], 'int32'));
});

test('bias vera_only trains the adapted layers\' biases; bad VeRA configs are ConfigErrors naming the field', () => {
  const peft = getPeftModel(loadBase('gpt2-tiny'), { peft_type: 'VERA', r: 4, bias: 'vera_only' });
  assert.ok(peft.model.trainableParameters().some(([n]) => n === 'transformer.h.0.attn.c_attn.base_layer.bias'));
  assert.throws(() => getPeftModel(loadBase('llama-tiny'), { peft_type: 'VERA', bias: 'lora_only' }), (e: unknown) => e instanceof ConfigError && /bias must be "none", "all", "vera_only"/.test(e.message));
  assert.throws(() => getPeftModel(loadBase('llama-tiny'), { peft_type: 'VERA', r: 0 }), (e: unknown) => e instanceof ConfigError && /r must be an integer >= 1/.test(e.message));
  assert.throws(() => getPeftModel(loadBase('llama-tiny'), { peft_type: 'VERA', exclude_modules: ['k_proj'] }), (e: unknown) => e instanceof ConfigError && /unknown config field 'exclude_modules'/.test(e.message));
  assert.throws(() => getPeftModel(loadBase('llama-tiny'), { peft_type: 'VERA', target_modules: ['embed_tokens'] }), (e: unknown) => e instanceof ConfigError && /no targeted module is a Linear/.test(e.message));
});
