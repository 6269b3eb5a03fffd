import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { assertClose, availableBackends, fixturesDir } from '../../test/helpers.js';
import { setBackend } from '../backend/index.js';
import { loadSafetensors } from '../io/safetensors.js';
import { loadPretrained, type CausalLM, type SequenceClassifier } from '../models/index.js';
import { castFrozenWeights } from '../nn/index.js';
import { crossEntropy, Generator, linear, noGrad, Tensor } from '../tensor/index.js';
import { loadAdapter, PeftModel } from './index.js';

/**
 * The bfloat16 path against the float32 one. Stated tolerance: on every fixture model (and
 * with its LoRA adapter) the logits stay within BF16_TOL of the largest float32 logit, and
 * the LoRA gradients within BF16_GRAD_TOL of their largest element. bfloat16 keeps 8
 * significant bits (relative rounding 2^-9 = 0.2%) in weights and in the activations entering
 * each bf16 product. Measured (both backends): logits 0.22-0.68% of the largest logit, LoRA
 * gradients 0.61% of the largest gradient.
 */
const BF16_TOL = 0.01,
  BF16_GRAD_TOL = 0.02;

const maxAbs = (xs: ArrayLike<number>) => Array.from(xs).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
function relError(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]));
  return worst / Math.max(maxAbs(ref), 1e-12);
}

const CAUSAL = ['gpt2-tiny', 'llama-tiny', 'qwen2-tiny'];

for (const backend of availableBackends()) {
  test(`[${backend.name}] linear with a bfloat16 weight equals float32 linear on bfloat16-rounded inputs, forward and backward`, () => {
    setBackend(backend);
    const gen = new Generator(3);
    for (const conv1d of [false, true]) {
      const stored = Tensor.randn(conv1d ? [37, 21] : [21, 37], gen).bfloat16(); // Conv1D keeps [in, out]
      const weight = conv1d ? stored.T : stored; // [out=21, in=37]
      const x = Tensor.randn([2, 5, 37], gen);
      x.requiresGrad = true;
      const bias = Tensor.randn([21], gen);
      const y = linear(x, weight, bias);
      const g = Tensor.randn(y.shape, gen);
      y.backward(g);
      const xr = x.detach().bfloat16().float();
      xr.requiresGrad = true;
      const ref = linear(xr, weight.float(), bias);
      assertClose(y.contiguousData(), ref.contiguousData(), 1e-5 * Math.max(1, maxAbs(ref.contiguousData())), 0, `forward conv1d=${conv1d}`);
      // The backward product rounds the incoming gradient to bfloat16 too.
      const gxRef = linear(g.bfloat16().float(), weight.float().T.contiguous()).contiguousData();
      assertClose(x.grad!.contiguousData(), gxRef, 1e-5 * Math.max(1, maxAbs(gxRef)), 0, `dx conv1d=${conv1d}`);
    }
  });

  for (const name of CAUSAL) {
    for (const adapter of [false, true]) {
      test(`[${backend.name}] ${name}${adapter ? ' + LoRA' : ''}: bfloat16 weights stay within ${BF16_TOL} of float32 logits`, () => {
        setBackend(backend);
        const run = (dtype: 'float32' | 'bfloat16') => {
          const { model } = loadPretrained(join(fixturesDir, name), { dtype });
          const expected = loadSafetensors(join(fixturesDir, name, 'expected.safetensors'));
          let forward = (ids: Tensor) => (model as CausalLM).forward({ inputIds: ids });
          if (adapter) {
            const peft = new PeftModel(model);
            loadAdapter(peft, join(fixturesDir, `${name}-lora`), 'default');
            forward = (ids) => peft.forward({ inputIds: ids }) as Tensor;
          }
          return noGrad(() => forward(expected.get('input_ids')!)).contiguousData();
        };
        const err = relError(run('bfloat16'), run('float32'));
        assert.ok(err > 0 && err < BF16_TOL, `max |bf16 - f32| / max|f32| = ${err}`);
      });
    }
  }

  test(`[${backend.name}] bert-tiny: bfloat16 weights stay within ${BF16_TOL} of float32 logits`, () => {
    setBackend(backend);
    const expected = loadSafetensors(join(fixturesDir, 'bert-tiny', 'expected.safetensors'));
    const run = (dtype: 'float32' | 'bfloat16') =>
      noGrad(() =>
        (loadPretrained(join(fixturesDir, 'bert-tiny'), { dtype }).model as SequenceClassifier).forward({
          inputIds: expected.get('input_ids')!,
          attentionMask: expected.get('attention_mask')!,
          tokenTypeIds: expected.get('token_type_ids')!,
        }),
      ).contiguousData();
    const err = relError(run('bfloat16'), run('float32'));
    assert.ok(err > 0 && err < BF16_TOL, `max |bf16 - f32| / max|f32| = ${err}`);
  });

  test(`[${backend.name}] LoRA gradients on a bfloat16 base stay within ${BF16_GRAD_TOL} of the float32 base's; the adapter stays float32`, () => {
    setBackend(backend);
    const expected = loadSafetensors(join(fixturesDir, 'gpt2-tiny', 'expected.safetensors'));
    const ids = expected.get('input_ids')!;
    const [B, T] = ids.shape;
    const targets = new Int32Array(B * T).fill(-100);
    const src = ids.int32Data();
    for (let b = 0; b < B; b++) for (let t = 0; t + 1 < T; t++) targets[b * T + t] = src[b * T + t + 1];
    const grads = (bf16: boolean) => {
      const { model } = loadPretrained(join(fixturesDir, 'gpt2-tiny'), { dtype: 'float32' });
      const peft = new PeftModel(model);
      peft.addAdapter('default', { r: 4, lora_alpha: 8, target_modules: ['c_attn', 'c_fc'], init_lora_weights: 'gaussian' });
      if (bf16) assert.ok(castFrozenWeights(model, 'bfloat16') > 0);
      const params = model.trainableParameters();
      assert.ok(
        params.every(([, p]) => p.dtype === 'float32'),
        'trainable parameters stay float32',
      );
      // B starts at zero; give it values so that A gets a gradient too.
      const gen = new Generator(11);
      for (const [n, p] of params) if (n.includes('lora_B')) (p.data as Float32Array).set(Tensor.randn(p.shape, gen).mul(0.1).contiguousData());
      crossEntropy((model as CausalLM).forward({ inputIds: ids }), new Tensor(targets, [B, T])).backward();
      return params.flatMap(([, p]) => Array.from(p.grad!.contiguousData()));
    };
    const err = relError(grads(true), grads(false));
    assert.ok(err > 0 && err < BF16_GRAD_TOL, `max |bf16 - f32| / max|f32| over LoRA grads = ${err}`);
  });
}
