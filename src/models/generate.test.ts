import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fixturesDir } from '../../test/helpers.js';
import { ArgumentError } from '../errors.js';
import { noGrad, Tensor } from '../tensor/index.js';
import { generate } from './generate.js';
import { loadPretrained } from './load.js';
import type { CausalLM } from './model.js';

const models = ['gpt2-tiny', 'llama-tiny', 'qwen2-tiny'].map((name) => [name, loadPretrained(join(fixturesDir, name)).model as CausalLM] as const);
const prompt = [5, 17, 300, 42, 7, 99];

function argmaxOfFullForward(model: CausalLM, ids: number[]): number {
  const logits = noGrad(() => model.forward({ inputIds: Tensor.from(ids, [1, ids.length], 'int32') }));
  const V = logits.shape[2];
  const last = logits.contiguousData().subarray((ids.length - 1) * V);
  let best = 0;
  for (let i = 1; i < V; i++) if (last[i] > last[best]) best = i;
  return best;
}

for (const [name, model] of models) {
  test(`${name}: greedy with the KV cache equals without it, and the argmax of a full forward`, () => {
    const withCache = generate(model, [prompt], { maxNewTokens: 12, eosTokenId: -1 })[0];
    const without = generate(model, [prompt], { maxNewTokens: 12, eosTokenId: -1, useCache: false })[0];
    assert.equal(withCache.length, 12);
    assert.deepEqual(withCache, without);
    withCache.forEach((token, i) => assert.equal(token, argmaxOfFullForward(model, [...prompt, ...withCache.slice(0, i)]), `step ${i}`));
  });

  test(`${name}: a left-padded batch decodes each row as it would alone`, () => {
    const prompts = [[3, 9, 27], prompt, [11]];
    const batched = generate(model, prompts, { maxNewTokens: 8, eosTokenId: -1 });
    prompts.forEach((p, i) => assert.deepEqual(batched[i], generate(model, [p], { maxNewTokens: 8, eosTokenId: -1 })[0], `row ${i}`));
  });
}

test('an unpadded batch decodes each row as it would alone (one-row attention matrices in any layout)', () => {
  for (const [name, model] of models) {
    const rows = [prompt, prompt.map((t) => (t * 3) % 200)];
    const batched = generate(model, rows, { maxNewTokens: 4, eosTokenId: -1 });
    rows.forEach((r, i) => assert.deepEqual(batched[i], generate(model, [r], { maxNewTokens: 4, eosTokenId: -1 })[0], `${name} row ${i}`));
  }
});

test('sampling is seeded; top-k 1 is greedy; stopping at eos', () => {
  const model = models[0][1];
  const a = generate(model, [prompt], { maxNewTokens: 10, temperature: 1.5, topP: 0.9, seed: 3, eosTokenId: -1 })[0];
  const b = generate(model, [prompt], { maxNewTokens: 10, temperature: 1.5, topP: 0.9, seed: 3, eosTokenId: -1 })[0];
  assert.deepEqual(a, b);
  const greedy = generate(model, [prompt], { maxNewTokens: 10, eosTokenId: -1 })[0];
  assert.deepEqual(generate(model, [prompt], { maxNewTokens: 10, temperature: 1, topK: 1, eosTokenId: -1 })[0], greedy);
  const stopAt = greedy[3];
  const stopped = generate(model, [prompt], { maxNewTokens: 10, eosTokenId: stopAt })[0];
  assert.deepEqual(stopped, greedy.slice(0, greedy.indexOf(stopAt) + 1));
});

test('bad generation settings are ArgumentErrors', () => {
  const model = models[0][1];
  assert.throws(() => generate(model, [prompt], { temperature: -1 }), ArgumentError);
  assert.throws(() => generate(model, [prompt], { topP: 0 }), ArgumentError);
  assert.throws(() => generate(model, [[]]), ArgumentError);
  assert.throws(() => generate(model, [prompt], { maxNewTokens: 1000 }), /exceeds the model's 128 positions/);
});
