import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertClose } from '../../../../test/helpers.js';
import { loadBase, zooFixture } from '../../../../test/zoo.js';
import { assertMatchesFixture, expectedOf, fixtureLogits } from '../../../../test/fixtures.js';
import { ConfigError } from '../../../errors.js';
import { loadSafetensors, saveSafetensors } from '../../../io/index.js';
import type { PretrainedModel } from '../../../models/index.js';
import { Generator, noGrad, Tensor } from '../../../tensor/index.js';
import { getPeftModel, loadPeftModel, saveAdapters } from '../../index.js';
import type { VeraLayer } from './layer.js';

const fx = zooFixture('llama-tiny-vera');

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
  const A = state.get('base_model.vera_A')!.contiguousData(),
    B = state.get('base_model.vera_B')!.contiguousData();
  const layer = peft.model.getSubmodule('model.layers.1.self_attn.v_proj') as VeraLayer;
  const lb = layer.vera_lambda_b.items.get('default')!.contiguousData(),
    ld = layer.vera_lambda_d.items.get('default')!.contiguousData();
  const [out, inF, r, inMax] = [32, 64, 16, 64];
  const expected = new Float64Array(out * inF);
  for (let i = 0; i < out; i++)
    for (let j = 0; j < inF; j++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += B[i * r + k] * ld[k] * A[k * inMax + j];
      expected[i * inF + j] = lb[i] * s;
    }
  assertClose(layer.deltaWeight('default').contiguousData(), expected, 1e-6, 1e-5, 'delta weight');
  const x = Tensor.randn([3, 64], new Generator(4));
  const viaDelta = noGrad(() => layer.forward(x).sub(layer.base_layer.forward(x))).contiguousData();
  assertClose(viaDelta, noGrad(() => x.matmul(layer.deltaWeight('default').T)).contiguousData(), 1e-5, 1e-5, 'forward adds x dW^T');
});

test('init: lambda_b = 0 and lambda_d = d_initial (false: ones and normal draws); fan_in_fan_out follows the layer type; only the lambdas train', () => {
  const peft = getPeftModel(loadBase('llama-tiny'), { peft_type: 'VERA', r: 4, d_initial: 0.25, target_modules: ['v_proj'], layers_to_transform: [1] });
  const layer = peft.tunerLayers()[0][1] as VeraLayer;
  assert.deepEqual([...layer.vera_lambda_d.items.get('default')!.contiguousData()], [0.25, 0.25, 0.25, 0.25]);
  assert.ok(
    layer.vera_lambda_b.items
      .get('default')!
      .contiguousData()
      .every((v) => v === 0),
  );
  assert.deepEqual(
    peft.model
      .trainableParameters()
      .map(([n]) => n)
      .sort(),
    ['model.layers.1.self_attn.v_proj.vera_lambda_b.default', 'model.layers.1.self_attn.v_proj.vera_lambda_d.default'],
  );
  const random = getPeftModel(loadBase('llama-tiny'), { peft_type: 'VERA', r: 4, init_weights: false, target_modules: ['v_proj'] });
  const randomLayer = random.tunerLayers()[0][1] as VeraLayer;
  assert.ok(
    randomLayer.vera_lambda_b.items
      .get('default')!
      .contiguousData()
      .every((v) => v === 1),
  );
  assert.ok(
    randomLayer.vera_lambda_d.items
      .get('default')!
      .contiguousData()
      .every((v) => v !== Math.fround(0.1)),
  );
  assert.equal((random.config() as unknown as { fan_in_fan_out: boolean }).fan_in_fan_out, false);
  assert.equal((getPeftModel(loadBase('gpt2-tiny'), { peft_type: 'VERA', r: 4 }).config() as unknown as { fan_in_fan_out: boolean }).fan_in_fan_out, true);
});

test("bias vera_only trains the adapted layers' biases; bad VeRA configs are ConfigErrors naming the field", () => {
  const peft = getPeftModel(loadBase('gpt2-tiny'), { peft_type: 'VERA', r: 4, bias: 'vera_only' });
  assert.ok(peft.model.trainableParameters().some(([n]) => n === 'transformer.h.0.attn.c_attn.base_layer.bias'));
  // biome-ignore format: the error this expects must stay on the line below the directive
  // @ts-expect-error a value outside the field's choices
  assert.throws(() => getPeftModel(loadBase('llama-tiny'), { peft_type: 'VERA', bias: 'lora_only' }), (e: unknown) => e instanceof ConfigError && /bias must be "none", "all", "vera_only"/.test(e.message));
  assert.throws(
    () => getPeftModel(loadBase('llama-tiny'), { peft_type: 'VERA', r: 0 }),
    (e: unknown) => e instanceof ConfigError && /r must be an integer >= 1/.test(e.message),
  );
  assert.throws(
    () => getPeftModel(loadBase('llama-tiny'), { peft_type: 'VERA', exclude_modules: ['k_proj'] }),
    (e: unknown) => e instanceof ConfigError && /unknown config field 'exclude_modules'/.test(e.message),
  );
  assert.throws(
    () => getPeftModel(loadBase('llama-tiny'), { peft_type: 'VERA', target_modules: ['embed_tokens'] }),
    (e: unknown) => e instanceof ConfigError && /no targeted module is a Linear/.test(e.message),
  );
});
