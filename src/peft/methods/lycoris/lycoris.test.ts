import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose } from '../../../../test/helpers.js';
import { loadBase } from '../../../../test/zoo.js';
import { ConfigError } from '../../../errors.js';
import { Generator, manualSeed, noGrad, Tensor } from '../../../tensor/index.js';
import { getPeftModel, type PeftModel } from '../../index.js';
import type { LycorisLayer } from './layer.js';

// LoHa and LoKr share PEFT's LycorisLayer: the same training-time dropouts, Linear-only targets, merge.
const METHODS = [
  { peft_type: 'LOHA', rankDropoutScaled: true },
  { peft_type: 'LOKR', rankDropoutScaled: false },
] as const;

const ids = Tensor.from([3, 14, 15, 92, 65, 35, 89, 79, 32, 38, 46, 26], [2, 6], 'int32');
const run = (m: { forward: unknown }) => noGrad(() => (m.forward as (i: { inputIds: Tensor }) => Tensor)({ inputIds: ids })).contiguousData();
const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const vProj = (peft: PeftModel) => peft.model.getSubmodule('model.layers.0.self_attn.v_proj') as LycorisLayer;
/** The update a layer adds, as dW^T [in, out]: its output on the identity minus the base's. */
const updateRows = (layer: LycorisLayer) => {
  const eye = Tensor.zeros([64, 64]);
  for (let i = 0; i < 64; i++) eye.data[i * 64 + i] = 1;
  return noGrad(() => layer.forward(eye).sub(layer.base_layer.forward(eye))).contiguousData();
};

for (const { peft_type, rankDropoutScaled } of METHODS) {
  test(`${peft_type}: a fresh adapter changes nothing; init_weights=false does`, () => {
    const before = run(loadBase('llama-tiny'));
    assert.deepEqual(run(getPeftModel(loadBase('llama-tiny'), { peft_type })), before);
    assert.ok(maxAbsDiff(run(getPeftModel(loadBase('llama-tiny'), { peft_type, init_weights: false })), before) > 1e-4);
  });

  test(`${peft_type}: module_dropout skips the adapter in training only; rank_dropout drops whole rows of the update${rankDropoutScaled ? ' and rescales the rest' : ''}`, () => {
    const skipped = getPeftModel(loadBase('llama-tiny'), { peft_type, init_weights: false, module_dropout: 1 });
    const adapted = run(skipped);
    skipped.model.train();
    assert.deepEqual(run(skipped), run(loadBase('llama-tiny')));
    skipped.model.eval();
    assert.deepEqual(run(skipped), adapted);

    const peft = getPeftModel(loadBase('llama-tiny'), { peft_type, init_weights: false, rank_dropout: 0.5 }, { seed: 3 });
    const full = updateRows(vProj(peft));
    manualSeed(11);
    peft.model.train();
    const dropped = updateRows(vProj(peft));
    const out = 32,
      kept: number[] = [];
    for (let j = 0; j < out; j++) {
      const column = (a: Float32Array) => Array.from({ length: 64 }, (_, i) => a[i * out + j]);
      if (column(dropped).every((v) => v === 0)) continue;
      kept.push(j);
    }
    assert.ok(kept.length > 0 && kept.length < out, `${kept.length} of ${out} rows kept`);
    const scale = rankDropoutScaled ? out / kept.length : 1;
    for (const j of kept) for (let i = 0; i < 64; i++) assert.ok(Math.abs(dropped[i * out + j] - scale * full[i * out + j]) < 1e-5 * (1 + Math.abs(full[i * out + j])), `row ${j}`);
  });

  test(`${peft_type}: GPT-2's Conv1D is refused as HF PEFT refuses it; bad fields are ConfigErrors`, () => {
    assert.throws(
      () => getPeftModel(loadBase('gpt2-tiny'), { peft_type }),
      (e: unknown) => e instanceof ConfigError && /c_attn' is a Conv1D/.test(e.message) && /Linear layers only/.test(e.message),
    );
    assert.throws(
      () => getPeftModel(loadBase('llama-tiny'), { peft_type, rank_dropout: 1.5 }),
      (e: unknown) => e instanceof ConfigError && /rank_dropout must be a number >= 0, <= 1/.test(e.message),
    );
    // biome-ignore format: the error this expects must stay on the line below the directive
    // @ts-expect-error a LoRA field on a LyCORIS method does not compile; from JSON it is a run-time error
    assert.throws(() => getPeftModel(loadBase('llama-tiny'), { peft_type, lora_alpha: 16 }), (e: unknown) => e instanceof ConfigError && /unknown config field 'lora_alpha'/.test(e.message));
  });
}

test('two LoHa adapters active on one layer add their updates', () => {
  const model = loadBase('llama-tiny');
  const peft = getPeftModel(model, { peft_type: 'LOHA', init_weights: false });
  const x = Tensor.randn([2, 64], new Generator(5));
  const layer = vProj(peft);
  const base = noGrad(() => layer.base_layer.forward(x));
  const one = noGrad(() => layer.forward(x)).contiguousData();
  peft.addAdapter('second', { peft_type: 'LOHA', init_weights: false, r: 2 });
  const two = noGrad(() => layer.forward(x)).contiguousData();
  peft.setAdapter(['default', 'second']);
  const both = noGrad(() => layer.forward(x)).contiguousData();
  assertClose(
    both,
    one.map((v, i) => v + two[i] - base.contiguousData()[i]),
    1e-5,
    1e-5,
    'sum of updates',
  );
});
