import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { assertClose, fixturesDir } from '../../test/helpers.js';
import { loadSafetensors } from '../io/safetensors.js';
import { causalLMLoss, loadPretrained, type CausalLM } from '../models/index.js';
import { crossEntropy, Tensor } from '../tensor/index.js';
import { PeftModel } from './index.js';

/** causalLMLoss (chunked head, or the wrapped head's forward) equals crossEntropy over full logits, with LoRA gradients. */
for (const targetHead of [false, true]) {
  test(`causalLMLoss matches crossEntropy(forward) on gpt2-tiny with LoRA${targetHead ? ' on lm_head too' : ''}`, () => {
    const ids = loadSafetensors(join(fixturesDir, 'gpt2-tiny', 'expected.safetensors')).get('input_ids')!;
    const [B, T] = ids.shape;
    const src = ids.int32Data();
    const targets = new Tensor(
      Int32Array.from({ length: B * T }, (_, i) => (i % T === T - 1 ? -100 : src[i + 1])),
      [B, T],
    );
    const run = (fused: boolean) => {
      const model = loadPretrained(join(fixturesDir, 'gpt2-tiny')).model as CausalLM;
      const peft = new PeftModel(model);
      peft.addAdapter('default', { r: 2, lora_alpha: 4, target_modules: targetHead ? ['c_attn', 'lm_head'] : ['c_attn'], init_lora_weights: 'gaussian' });
      const loss = fused ? causalLMLoss(model, { inputIds: ids }, targets, 'sum') : crossEntropy(model.forward({ inputIds: ids }), targets, { reduction: 'sum' });
      loss.backward();
      return { loss: loss.item(), grads: model.trainableParameters().flatMap(([, p]) => Array.from(p.grad!.contiguousData())) };
    };
    const a = run(true),
      b = run(false);
    assert.ok(Math.abs(a.loss - b.loss) < 1e-4 * Math.abs(b.loss), `${a.loss} vs ${b.loss}`);
    assertClose(a.grads, b.grads, 1e-5, 1e-3, 'LoRA gradients');
  });
}
