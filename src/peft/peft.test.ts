import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertClose, fixturesDir } from '../../test/helpers.js';
import { assertMatchesFixture, expectedOf, fixtureLogits } from '../../test/fixtures.js';
import { CheckpointError, ConfigError } from '../errors.js';
import { loadSafetensors, readHeader, saveSafetensors } from '../io/index.js';
import { loadPretrained, type CausalLM, type PretrainedModel } from '../models/index.js';
import { crossEntropy, Generator, noGrad, Tensor } from '../tensor/index.js';
import { addWeightedAdapter, getPeftModel, loadAdapter, loadPeftModel, type LoraLayer, PeftModel, saveAdapters } from './index.js';

const base = (name: string) => loadPretrained(join(fixturesDir, name)).model;
const tmp = () => mkdtempSync(join(tmpdir(), 'peft-ts-peft-'));
const ids = Tensor.from([3, 14, 15, 92, 65, 35, 89, 79, 32, 38, 46, 26], [2, 6], 'int32');
const run = (m: { forward: PretrainedModel['forward'] } | PeftModel, input = ids) => noGrad(() => (m.forward as (i: unknown) => Tensor)({ inputIds: input })).contiguousData();
const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

const FIXTURES: [string, string][] = [
  ['gpt2-tiny', 'gpt2-tiny-lora'],
  ['llama-tiny', 'llama-tiny-lora'],
  ['qwen2-tiny', 'qwen2-tiny-lora'],
  ['bert-tiny', 'bert-tiny-lora'],
  ['llama-tiny', 'peft-zoo/llama-tiny-lora-dora'],
  ['gpt2-tiny', 'peft-zoo/gpt2-tiny-lora-dora'],
  ['llama-tiny', 'peft-zoo/llama-tiny-lora-rslora-pattern'],
  ['llama-tiny', 'peft-zoo/llama-tiny-lora-ab-cat'],
  ['llama-tiny', 'peft-zoo/llama-tiny-lora-ab-svd'],
  ['llama-tiny', 'peft-zoo/llama-tiny-lora-ab-linear'],
  ['llama-tiny', 'peft-zoo/llama-tiny-lora-ab-ties'],
];

for (const [baseName, adapter] of FIXTURES) {
  test(`${adapter}: HF PEFT's adapter on ${baseName} reproduces PyTorch's logits`, () => {
    const peft = loadPeftModel(base(baseName), join(fixturesDir, adapter));
    assertMatchesFixture(fixtureLogits(peft.model.forward.bind(peft.model) as PretrainedModel['forward'], expectedOf(adapter)), expectedOf(adapter), adapter);
  });
}

for (const type of ['cat', 'svd', 'linear', 'ties'] as const) {
  test(`add_weighted_adapter '${type}' of adapters a and b reproduces HF PEFT's result`, () => {
    const peft = new PeftModel(base('llama-tiny'));
    loadAdapter(peft, join(fixturesDir, 'peft-zoo/llama-tiny-lora-ab/a'), 'a');
    loadAdapter(peft, join(fixturesDir, 'peft-zoo/llama-tiny-lora-ab/b'), 'b');
    addWeightedAdapter(peft, ['a', 'b'], [0.7, 0.3], 'combined', type, { svdRank: 8, density: 0.5 });
    peft.setAdapter('combined');
    const folder = `peft-zoo/llama-tiny-lora-ab-${type}`;
    assertMatchesFixture(fixtureLogits(peft.model.forward.bind(peft.model) as PretrainedModel['forward'], expectedOf(folder)), expectedOf(folder), folder);
    assert.equal((peft.config('combined') as unknown as { r: number }).r, type === 'cat' ? 16 : 8);
    assert.equal((peft.config('combined') as unknown as { lora_alpha: number }).lora_alpha, type === 'cat' ? 16 : 8);
  });
}

test("cat and svd reproduce the weighted sum of delta weights; dare and magnitude_prune keep PEFT's semantics", () => {
  const peft = new PeftModel(base('llama-tiny'));
  loadAdapter(peft, join(fixturesDir, 'peft-zoo/llama-tiny-lora-ab/a'), 'a');
  loadAdapter(peft, join(fixturesDir, 'peft-zoo/llama-tiny-lora-ab/b'), 'b');
  const layer = () => peft.tunerLayers().find(([p]) => p === 'model.layers.0.self_attn.q_proj')![1] as LoraLayer;
  const expected = layer().deltaWeight('a').mul(0.7).add(layer().deltaWeight('b').mul(0.3)).contiguousData();
  for (const type of ['cat', 'svd'] as const) {
    addWeightedAdapter(peft, ['a', 'b'], [0.7, 0.3], type, type, { svdRank: 16 });
    assertClose(layer().deltaWeight(type).contiguousData(), expected, 1e-5, 1e-4, `${type} delta`);
  }
  addWeightedAdapter(peft, ['a', 'b'], [0.7, 0.3], 'pruned', 'magnitude_prune', { density: 0.25 });
  addWeightedAdapter(peft, ['a', 'b'], [0.7, 0.3], 'dare', 'dare_linear', { density: 0.5, seed: 1 });
  addWeightedAdapter(peft, ['a', 'b'], [0.7, 0.3], 'dare_t', 'dare_ties', { density: 0.5, seed: 1 });
  const A = (n: string) => layer().lora_A.items.get(n)!.weight.contiguousData();
  // magnitude_prune at density 0.25 keeps a quarter of each source's entries: the sum has at most half non-zero.
  assert.ok(A('pruned').filter((v) => v !== 0).length <= A('a').length / 2);
  assert.ok(A('dare').some((v) => v !== 0) && A('dare_t').some((v) => v !== 0));
  assert.throws(() => addWeightedAdapter(peft, ['a', 'cat'], [1, 1], 'bad', 'linear'), /equal rank/);
});

test('merged output equals unmerged; unmerge restores the base weights; disabled gives the base exactly', () => {
  for (const [b, a] of [
    ['llama-tiny', 'llama-tiny-lora'],
    ['gpt2-tiny', 'peft-zoo/gpt2-tiny-lora-dora'],
    ['llama-tiny', 'peft-zoo/llama-tiny-lora-dora'],
  ]) {
    const model = base(b);
    const before = new Map([...model.stateDict()].map(([k, t]) => [k, Float32Array.from(t.contiguousData())]));
    const baseOut = run(model);
    const peft = loadPeftModel(model, join(fixturesDir, a));
    const adapted = run(peft);
    assert.ok(maxAbsDiff(adapted, baseOut) > 1e-3, 'the adapter changes the output');
    assert.deepEqual(
      peft.withAdaptersDisabled(() => run(peft)),
      baseOut,
    );
    peft.merge();
    assert.ok(maxAbsDiff(run(peft), adapted) < 1e-5, `${a}: merged vs unmerged ${maxAbsDiff(run(peft), adapted)}`);
    assert.throws(() => peft.withAdaptersDisabled(() => 0), /merged/);
    peft.unmerge();
    for (const [path, layer] of peft.tunerLayers()) {
      const w = (layer.baseLayer() as unknown as { weight: Tensor }).weight.contiguousData();
      const key = `${path}.weight`;
      assert.ok(maxAbsDiff(w, before.get(key)!) < 1e-6, `${a}: ${key} restored`);
    }
    assert.ok(maxAbsDiff(run(peft), adapted) < 1e-6);
  }
});

test('a fresh adapter (B = 0) and a fresh DoRA leave the output equal to the base', () => {
  for (const use_dora of [false, true]) {
    const model = base('gpt2-tiny');
    const baseOut = run(model);
    const peft = getPeftModel(model, { r: 4, lora_alpha: 8, use_dora });
    assert.ok(maxAbsDiff(run(peft), baseOut) < 1e-6, `dora=${use_dora}`);
  }
});

test('PiSSA and OLoRA move weight into the adapter without changing the output', () => {
  for (const init of ['pissa', 'olora'] as const) {
    const model = base('llama-tiny');
    const baseOut = run(model);
    const peft = getPeftModel(model, { r: 4, lora_alpha: 8, init_lora_weights: init, target_modules: ['q_proj', 'v_proj'] });
    const layer = peft.tunerLayers()[0][1] as LoraLayer;
    assert.ok(
      layer.lora_B.items
        .get('default')!
        .weight.contiguousData()
        .some((v) => Math.abs(v) > 1e-3),
      `${init}: B is not zero`,
    );
    assert.ok(maxAbsDiff(run(peft), baseOut) < 1e-4, `${init}: ${maxAbsDiff(run(peft), baseOut)}`);
    // After training moved the adapter, disabling it gives the loaded model back, not the residual
    // one (eval pairs against it), and so does a second PiSSA/OLoRA adapter stacked on the residual.
    for (const [, t] of peft.model.trainableParameters()) t.contiguousData().set(t.contiguousData().map((v) => v * 1.5 + 0.01));
    assert.ok(maxAbsDiff(run(peft), baseOut) > 1e-3, `${init}: training changed nothing`);
    peft.addAdapter('second', { r: 2, lora_alpha: 4, init_lora_weights: init, target_modules: ['q_proj'] });
    assert.ok(peft.withAdaptersDisabled(() => maxAbsDiff(run(peft), baseOut)) < 1e-4, `${init}: disabled ${peft.withAdaptersDisabled(() => maxAbsDiff(run(peft), baseOut))}`);
  }
});

test('rsLoRA, rank_pattern and alpha_pattern give the deltas computed by hand', () => {
  const model = base('llama-tiny');
  const peft = getPeftModel(model, {
    r: 8,
    lora_alpha: 16,
    use_rslora: true,
    init_lora_weights: false,
    target_modules: ['q_proj', 'v_proj', 'down_proj'],
    rank_pattern: { 'layers.1.mlp.down_proj': 2, q_proj: 4 },
    alpha_pattern: { v_proj: 32 },
  });
  const x = Tensor.randn([3, 64], new Generator(5));
  const cases: [string, number, number][] = [
    ['model.layers.0.self_attn.q_proj', 4, 16],
    ['model.layers.0.self_attn.v_proj', 8, 32],
    ['model.layers.1.mlp.down_proj', 2, 16],
    ['model.layers.0.mlp.down_proj', 8, 16],
  ];
  for (const [path, r, alpha] of cases) {
    const layer = peft.model.getSubmodule(path) as LoraLayer;
    const A = layer.lora_A.items.get('default')!.weight,
      B = layer.lora_B.items.get('default')!.weight;
    assert.deepEqual(A.shape[0], r, `${path} rank`);
    const inputs = path.endsWith('down_proj') ? Tensor.randn([3, 176], new Generator(6)) : x;
    // delta = alpha / sqrt(r) * x A^T B^T, by hand in float64
    const [n, inF] = inputs.shape,
      outF = B.shape[0];
    const xa = inputs.contiguousData(),
      a = A.contiguousData(),
      b = B.contiguousData();
    const expected = new Float32Array(n * outF);
    for (let i = 0; i < n; i++)
      for (let o = 0; o < outF; o++) {
        let acc = 0;
        for (let k = 0; k < r; k++) {
          let ax = 0;
          for (let j = 0; j < inF; j++) ax += xa[i * inF + j] * a[k * inF + j];
          acc += ax * b[o * r + k];
        }
        expected[i * outF + o] = (alpha / Math.sqrt(r)) * acc;
      }
    const delta = noGrad(() => layer.forward(inputs).sub(layer.base_layer.forward(inputs))).contiguousData();
    assertClose(delta, expected, 1e-5, 1e-4, path);
  }
});

test('several adapters: add, activate together (outputs summed), disable, delete, list', () => {
  const model = base('llama-tiny');
  const baseOut = run(model);
  const peft = new PeftModel(model);
  loadAdapter(peft, join(fixturesDir, 'peft-zoo/llama-tiny-lora-ab/a'), 'a');
  loadAdapter(peft, join(fixturesDir, 'peft-zoo/llama-tiny-lora-ab/b'), 'b');
  assert.deepEqual(peft.listAdapters(), ['a', 'b']);
  peft.setAdapter('a');
  const outA = run(peft);
  peft.setAdapter('b');
  const outB = run(peft);
  // Summing adapters sums their layer deltas: at a single layer the effects add exactly.
  const layer = peft.model.getSubmodule('model.layers.0.self_attn.q_proj') as LoraLayer;
  const x = Tensor.randn([2, 64], new Generator(2));
  const delta = (names: string[]) => {
    peft.setAdapter(names);
    return noGrad(() => layer.forward(x).sub(layer.base_layer.forward(x))).contiguousData();
  };
  const sum = delta(['a']).map((v, i) => v + delta(['b'])[i]);
  assertClose(delta(['a', 'b']), sum, 1e-6, 1e-5, 'a + b');
  peft.setAdapter(['a', 'b']);
  assert.ok(maxAbsDiff(run(peft), outA) > 1e-4 && maxAbsDiff(run(peft), outB) > 1e-4);
  assert.deepEqual(
    peft.withAdaptersDisabled(() => run(peft)),
    baseOut,
  );
  peft.deleteAdapter('a');
  assert.deepEqual(peft.listAdapters(), ['b']);
  assert.deepEqual(run(peft), outB);
  assert.throws(() => peft.setAdapter('a'), /no adapter named 'a'/);
});

test('mixed batch: each row equals that row run alone with its adapter', () => {
  const peft = new PeftModel(base('llama-tiny'));
  loadAdapter(peft, join(fixturesDir, 'peft-zoo/llama-tiny-lora-ab/a'), 'a');
  loadAdapter(peft, join(fixturesDir, 'peft-zoo/llama-tiny-lora-ab/b'), 'b');
  const batch = Tensor.from(
    Array.from({ length: 18 }, (_, i) => (i * 37) % 500),
    [3, 6],
    'int32',
  );
  const names = ['b', '__base__', 'a'];
  const mixed = noGrad(() => peft.forward({ inputIds: batch }, { adapterNames: names })).contiguousData();
  const rowSize = mixed.length / 3;
  names.forEach((name, row) => {
    const rowIds = Tensor.from(batch.toArray().slice(row * 6, row * 6 + 6), [1, 6], 'int32');
    if (name !== '__base__') peft.setAdapter(name);
    const alone = name === '__base__' ? peft.withAdaptersDisabled(() => run(peft, rowIds)) : run(peft, rowIds);
    assertClose(mixed.subarray(row * rowSize, (row + 1) * rowSize), alone, 1e-5, 0, `row ${row} (${name})`);
  });
  assert.throws(() => peft.forward({ inputIds: batch }, { adapterNames: ['a', 'zzz', 'b'] }), /no adapter named 'zzz'/);
});

test('only adapter parameters train; trainable counts are reported', () => {
  const model = base('gpt2-tiny') as CausalLM;
  const peft = getPeftModel(model, { r: 8, lora_alpha: 16, init_lora_weights: false });
  const report = peft.trainableParameters();
  assert.equal(report.trainable, 2 * 8 * (64 + 192));
  assert.equal(
    report.total,
    model.parameters().reduce((n, t) => n + t.size, 0),
  );
  const logits = model.forward({ inputIds: ids });
  crossEntropy(
    logits.narrow(1, 0, 5),
    Tensor.from(
      ids.toArray().filter((_, i) => i % 6 !== 0),
      [2, 5],
      'int32',
    ),
  ).backward();
  const withGrad = model
    .namedParameters()
    .filter(([, t]) => t.grad)
    .map(([n]) => n);
  assert.ok(withGrad.length === 4 && withGrad.every((n) => /lora_[AB]\.default\.weight$/.test(n)), withGrad.join(', '));
});

test('save then load is bit-exact, with a non-default adapter in its own subfolder', () => {
  const dir = tmp();
  const peft = getPeftModel(base('llama-tiny'), { r: 4, lora_alpha: 8, init_lora_weights: false, use_dora: true });
  peft.addAdapter('second', { r: 2, lora_alpha: 2, target_modules: ['o_proj'], init_lora_weights: false });
  saveAdapters(peft, dir);
  const reloaded = new PeftModel(base('llama-tiny'));
  loadAdapter(reloaded, dir, 'default');
  loadAdapter(reloaded, join(dir, 'second'), 'second');
  for (const name of ['default', 'second']) {
    const a = peft.adapterStateDict(name),
      b = reloaded.adapterStateDict(name);
    assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
    for (const [k, t] of a) assert.deepEqual(b.get(k)!.contiguousData(), t.contiguousData(), k);
  }
  peft.setAdapter('default');
  reloaded.setAdapter('default');
  assert.deepEqual(run(reloaded), run(peft));
});

test('bad adapters get clear errors naming the key, module or type', () => {
  const dir = tmp();
  const good = join(fixturesDir, 'llama-tiny-lora');
  const copy = (config: Record<string, unknown>, tensors?: Map<string, Tensor>) => {
    const d = mkdtempSync(join(dir, 'a-'));
    writeFileSync(join(d, 'adapter_config.json'), JSON.stringify(config));
    if (tensors) saveSafetensors(join(d, 'adapter_model.safetensors'), tensors);
    else copyFileSync(join(good, 'adapter_model.safetensors'), join(d, 'adapter_model.safetensors'));
    return d;
  };
  const config = JSON.parse(readFileSync(join(good, 'adapter_config.json'), 'utf8'));
  const tensors = loadSafetensors(join(good, 'adapter_model.safetensors'));
  const missing = new Map(tensors);
  missing.delete('base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight');
  assert.throws(
    () => loadPeftModel(base('llama-tiny'), copy(config, missing)),
    (e: unknown) => e instanceof CheckpointError && /lacks 'base_model\.model\.model\.layers\.1\.self_attn\.v_proj\.lora_B\.weight'/.test(e.message),
  );
  assert.throws(
    () => loadPeftModel(base('gpt2-tiny'), good),
    (e: unknown) => e instanceof ConfigError && /match no module/.test(e.message) && /c_attn/.test(e.message),
  );
  assert.throws(
    () => loadPeftModel(base('llama-tiny'), copy({ ...config, r: 4 })),
    (e: unknown) => e instanceof CheckpointError && /has shape \[8, 64\] but the model needs \[4, 64\]/.test(e.message),
  );
  assert.throws(
    () => loadPeftModel(base('llama-tiny'), copy({ ...config, peft_type: 'MAGIC' })),
    (e: unknown) => e instanceof ConfigError && /peft_type "MAGIC" is not supported/.test(e.message),
  );
  assert.throws(
    () => loadPeftModel(base('llama-tiny'), copy({ ...config, target_modules: ['q_proj'] })),
    (e: unknown) => e instanceof CheckpointError && /v_proj.*matches nothing/.test(e.message),
  );
  assert.throws(
    () => loadPeftModel(base('llama-tiny'), copy({ ...config, use_qalora: true })),
    (e: unknown) => e instanceof ConfigError && /use_qalora/.test(e.message),
  );
  // An unknown field is an error, never silently dropped; a near-miss gets a suggestion.
  const peft = new PeftModel(base('llama-tiny'));
  // Typed configs catch these at compile time (the expect-error lines fail the build if they compile);
  // configs from JSON reach the same checks at run time.
  // biome-ignore format: the error this expects must stay on the line below the directive
  // @ts-expect-error an unknown field
  assert.throws(() => peft.addAdapter('x', { r: 2, some_future_field: 1 }), (e: unknown) => e instanceof ConfigError && /unknown config field 'some_future_field'/.test(e.message));
  // biome-ignore format: the error this expects must stay on the line below the directive
  // @ts-expect-error a misspelt field
  assert.throws(() => peft.addAdapter('x', { r: 2, lora_alhpa: 16 }), (e: unknown) => e instanceof ConfigError && /Did you mean 'lora_alpha'/.test(e.message));
  // biome-ignore format: the error this expects must stay on the line below the directive
  // @ts-expect-error a value outside the field's choices
  assert.throws(() => peft.addAdapter('x', { r: 2, bias: 'some' }), (e: unknown) => e instanceof ConfigError && /bias must be "none", "all", "lora_only"/.test(e.message));
  assert.deepEqual(peft.listAdapters(), []);
});

/**
 * The saved format checked against HF PEFT's spec (../shared/notes/peft-anchors.md section 2),
 * not against our own reader: file names, header metadata, key names and shapes, and the
 * config's field set, values and sorted keys.
 */
test("a saved gpt2 adapter has HF PEFT's exact files, keys, shapes and config", () => {
  const dir = tmp();
  const peft = getPeftModel(base('gpt2-tiny'), { task_type: 'CAUSAL_LM' });
  saveAdapters(peft, dir, { baseModelNameOrPath: 'gpt2-tiny' });
  const header = readHeader(join(dir, 'adapter_model.safetensors'));
  assert.deepEqual(header.metadata, { format: 'pt' });
  const expectedKeys = [0, 1].flatMap((i) => [
    [`base_model.model.transformer.h.${i}.attn.c_attn.lora_A.weight`, [8, 64]],
    [`base_model.model.transformer.h.${i}.attn.c_attn.lora_B.weight`, [192, 8]],
  ]);
  assert.deepEqual([...header.tensors.entries()].map(([k, v]) => [k, v.shape, v.dtype]).sort(), expectedKeys.map(([k, s]) => [k, s, 'F32']).sort());
  const text = readFileSync(join(dir, 'adapter_config.json'), 'utf8');
  const json = JSON.parse(text);
  assert.deepEqual(Object.keys(json), [...Object.keys(json)].sort(), 'keys are sorted');
  assert.match(text, /^\{\n {2}"/, 'two-space indent');
  const spec: Record<string, unknown> = {
    alpha_pattern: {},
    base_model_name_or_path: 'gpt2-tiny',
    bias: 'none',
    exclude_modules: null,
    fan_in_fan_out: true,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: 8,
    lora_dropout: 0,
    modules_to_save: null,
    peft_type: 'LORA',
    r: 8,
    rank_pattern: {},
    revision: null,
    target_modules: ['c_attn'],
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: false,
    loftq_config: {},
    megatron_core: 'megatron.core',
    lora_bias: false,
    layer_replication: null,
    use_qalora: false,
  };
  for (const [k, v] of Object.entries(spec)) assert.deepEqual(json[k], v, k);
});

test('a SEQ_CLS adapter trains and saves the classifier head under its original name', () => {
  const dir = tmp();
  const peft = getPeftModel(base('bert-tiny'), { task_type: 'SEQ_CLS', r: 4 });
  assert.deepEqual(peft.config().modules_to_save, ['classifier', 'score']);
  const trainable = peft.model
    .namedParameters()
    .filter(([, t]) => t.requiresGrad)
    .map(([n]) => n);
  assert.ok(trainable.includes('classifier.modules_to_save.default.weight'));
  saveAdapters(peft, dir);
  const keys = [...readHeader(join(dir, 'adapter_model.safetensors')).tensors.keys()];
  assert.ok(keys.includes('base_model.model.classifier.weight') && keys.includes('base_model.model.classifier.bias'));
});

// Issue 12: ranks from adapter_config.json or --r: stack traces or gigabyte allocations before.
test('negative, fractional, huge and per-layer oversized ranks are ConfigErrors before anything is allocated', () => {
  const peft = new PeftModel(loadPretrained(join(fixturesDir, 'gpt2-tiny')).model);
  for (const [config, pattern] of [
    [{ r: 1e8 }, /r must be an integer in \[1, 65536\]/],
    [{ r: 2.5 }, /r must be an integer in \[1, 65536\]/],
    [{ r: 0 }, /r must be an integer in \[1, 65536\]/],
    [{ rank_pattern: { c_attn: -4 } }, /rank_pattern must be an object of pattern -> rank/],
    [{ rank_pattern: { c_attn: 1.5 } }, /rank_pattern/],
    [{ rank_pattern: { c_attn: 2 ** 40 } }, /rank_pattern/],
    [{ rank_pattern: ['c_attn', 4] }, /rank_pattern/],
    [{ alpha_pattern: { c_attn: 'big' } }, /alpha_pattern/],
    [{ r: 4096 }, /rank 4096 for '.*' exceeds the layer's larger dimension \(64 -> 192\)/],
  ] as const) {
    assert.throws(
      () => peft.addAdapter('x', { peft_type: 'LORA', target_modules: ['c_attn'], ...config }),
      (e: unknown) => e instanceof ConfigError && pattern.test((e as Error).message),
      JSON.stringify(config),
    );
  }
});

test('regexes in adapter configs (target_modules, rank_pattern keys) that are invalid or can backtrack without limit are ConfigErrors', () => {
  const peft = new PeftModel(loadPretrained(join(fixturesDir, 'gpt2-tiny')).model);
  for (const config of [
    { target_modules: '(.*)*x' },
    { target_modules: '(' },
    { target_modules: ['c_attn'], rank_pattern: { '(a|aa)+': 4 } },
    { target_modules: ['c_attn'], rank_pattern: { '[': 4 } },
  ]) {
    assert.throws(
      () => peft.addAdapter('y', { peft_type: 'LORA', ...config }),
      (e: unknown) => e instanceof ConfigError && /\[peft\] (target pattern|rank\/alpha pattern)/.test((e as Error).message),
      JSON.stringify(config),
    );
  }
});
