import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturesDir } from '../../test/helpers.js';
import { assertMatchesFixture, expectedOf, fixtureLogits } from '../../test/fixtures.js';
import { ArgumentError, CheckpointError, ConfigError } from '../errors.js';
import { loadSafetensors } from '../io/index.js';
import { generate, loadPretrained, type CausalLM, type PretrainedModel } from '../models/index.js';
import { normal_ } from '../nn/index.js';
import { concat, crossEntropy, Generator, noGrad, Tensor } from '../tensor/index.js';
import { getPeftModel, loadAdapter, loadPeftModel, PeftModel, saveAdapters } from './index.js';

const base = (name: string) => loadPretrained(join(fixturesDir, name)).model;
const tmp = () => mkdtempSync(join(tmpdir(), 'peft-ts-prompt-'));
const ids = Tensor.from([3, 14, 15, 92, 65, 35, 89, 79, 32, 38, 46, 26], [2, 6], 'int32');
const logitsOf = (model: PretrainedModel, input = ids) => noGrad(() => (model.forward as (i: unknown) => Tensor)({ inputIds: input })).contiguousData();

/** HF PEFT 0.21's prompt-based adapters (../shared/fixtures/peft-zoo), each with its base. */
const PROMPT_FIXTURES: [string, string][] = [
  ['llama-tiny', 'peft-zoo/llama-tiny-prompt-tuning'],
  ['llama-tiny', 'peft-zoo/llama-tiny-p-tuning'],
  ['llama-tiny', 'peft-zoo/llama-tiny-prefix-tuning'],
  ['bert-tiny', 'peft-zoo/bert-tiny-prompt-tuning'],
];

for (const [baseName, adapter] of PROMPT_FIXTURES) {
  test(`${adapter}: HF PEFT's adapter on ${baseName} reproduces PyTorch's logits at the real positions`, () => {
    const peft = loadPeftModel(base(baseName), join(fixturesDir, adapter));
    assertMatchesFixture(fixtureLogits(peft.model.forward.bind(peft.model) as PretrainedModel['forward'], expectedOf(adapter)), expectedOf(adapter), adapter);
  });
}

/** Every prompt-based configuration peft-ts trains, as created fresh (training mode). */
const CONFIGS: [string, Record<string, unknown>][] = [
  ['prompt tuning', { peft_type: 'PROMPT_TUNING', num_virtual_tokens: 5 }],
  ['prompt tuning, SAMPLE_VOCAB', { peft_type: 'PROMPT_TUNING', num_virtual_tokens: 3, prompt_tuning_init: 'SAMPLE_VOCAB' }],
  ['p-tuning, MLP', { peft_type: 'P_TUNING', num_virtual_tokens: 4, encoder_hidden_size: 16 }],
  ['p-tuning, LSTM', { peft_type: 'P_TUNING', num_virtual_tokens: 4, encoder_hidden_size: 8, encoder_reparameterization_type: 'LSTM', encoder_num_layers: 2, encoder_dropout: 0.1 }],
  ['prefix tuning', { peft_type: 'PREFIX_TUNING', num_virtual_tokens: 4 }],
  ['prefix tuning, projection', { peft_type: 'PREFIX_TUNING', num_virtual_tokens: 3, prefix_projection: true, encoder_hidden_size: 12 }],
  ['DePT', { peft_type: 'DEPT', num_virtual_tokens: 3, r: 2, low_rank_positions: 16, low_rank_learning_rate: 1e-4 }],
];

for (const modelName of ['gpt2-tiny', 'llama-tiny']) {
  for (const [label, config] of CONFIGS) {
    test(`${modelName}, ${label}: changes the output, disabled equals the base, save then load is bit-exact`, () => {
      const baseLogits = logitsOf(base(modelName));
      const peft = getPeftModel(base(modelName), { task_type: 'CAUSAL_LM', ...config }, { seed: 3 });
      const tuned = logitsOf(peft.model);
      assert.equal(tuned.length, baseLogits.length, 'one row of logits per real token');
      assert.ok(
        tuned.some((v, i) => Math.abs(v - baseLogits[i]) > 1e-3),
        'the adapter changes the output',
      );
      assert.deepEqual(
        peft.withAdaptersDisabled(() => logitsOf(peft.model)),
        baseLogits,
      );
      const dir = tmp();
      saveAdapters(peft, dir);
      const loaded = loadPeftModel(base(modelName), dir);
      assert.deepEqual(logitsOf(loaded.model), tuned);
      const again = tmp();
      saveAdapters(loaded, again);
      assert.deepEqual(readFileSync(join(again, 'adapter_model.safetensors')), readFileSync(join(dir, 'adapter_model.safetensors')));
      assert.deepEqual(
        [...loadSafetensors(join(dir, 'adapter_model.safetensors')).keys()],
        config.peft_type === 'DEPT' ? ['lora_embedding_A', 'lora_embedding_B', 'prompt_embeddings'] : ['prompt_embeddings'],
      );
    });
  }
}

test("gradients reach only the prompt parameters; every trainable parameter is the adapter's", () => {
  for (const [label, config] of CONFIGS) {
    const peft = getPeftModel(base('llama-tiny'), { task_type: 'CAUSAL_LM', ...config }, { seed: 1 });
    // DePT's B starts at zero (so A's gradient is zero too): move it off zero.
    for (const [n, p] of peft.model.namedParameters()) if (n.endsWith('lora_embedding_B')) normal_(p, 0.1, new Generator(2));
    peft.model.train();
    const trainable = peft.model.trainableParameters();
    assert.ok(trainable.length > 0 && trainable.every(([n]) => n.startsWith('input_tuner.prompt_encoder.default.')), `${label}: ${trainable.map(([n]) => n)}`);
    const logits = peft.model.forward({ inputIds: ids });
    crossEntropy(logits.reshape([12, logits.shape[2]]), Tensor.from([14, 15, 92, 65, 35, 0, 79, 32, 38, 46, 26, 0], [12], 'int32')).backward();
    for (const [name, p] of peft.model.namedParameters()) {
      if (p.requiresGrad) assert.ok(p.grad && p.grad.contiguousData().some((g) => g !== 0), `${label}: ${name} gets a gradient`);
      else assert.equal(p.grad, null, `${label}: frozen ${name} has no gradient`);
    }
    assert.equal(
      peft.trainableParameters().trainable,
      trainable.reduce((n, [, t]) => n + t.size, 0),
    );
  }
});

test('names follow PEFT: embedding, mlp_head.N, lstm_head.weight_ih_l0_reverse, transform.N', () => {
  const names = (config: Record<string, unknown>) =>
    getPeftModel(base('llama-tiny'), config)
      .model.trainableParameters()
      .map(([n]) => n.replace('input_tuner.prompt_encoder.default.', ''));
  assert.deepEqual(names(CONFIGS[0][1]), ['embedding.weight']);
  assert.deepEqual(names(CONFIGS[2][1]), ['embedding.weight', 'mlp_head.0.weight', 'mlp_head.0.bias', 'mlp_head.2.weight', 'mlp_head.2.bias', 'mlp_head.4.weight', 'mlp_head.4.bias']);
  assert.ok(names(CONFIGS[3][1]).includes('lstm_head.weight_ih_l1_reverse'));
  assert.deepEqual(names(CONFIGS[5][1]), ['embedding.weight', 'transform.0.weight', 'transform.0.bias', 'transform.2.weight', 'transform.2.bias']);
});

test('prompt_tuning_init TEXT starts from the tokenized text, tiled to num_virtual_tokens', () => {
  const model = base('llama-tiny');
  const peft = new PeftModel(model, { tokenize: () => [7, 9, 11] });
  peft.addAdapter('default', { peft_type: 'PROMPT_TUNING', num_virtual_tokens: 5, prompt_tuning_init: 'TEXT', prompt_tuning_init_text: 'spam or not' });
  const prompt = peft.adapterStateDict('default').get('prompt_embeddings')!.contiguousData();
  const table = (model as CausalLM).inputEmbeddings().weight.contiguousData();
  [7, 9, 11, 7, 9].forEach((id, i) => assert.deepEqual(prompt.subarray(i * 64, (i + 1) * 64), table.subarray(id * 64, (id + 1) * 64)));
  assert.throws(() => new PeftModel(base('llama-tiny')).addAdapter('x', { peft_type: 'PROMPT_TUNING', prompt_tuning_init: 'TEXT', prompt_tuning_init_text: 'a' }), /needs the model's tokenizer/);
  assert.throws(() => new PeftModel(base('llama-tiny')).addAdapter('x', { peft_type: 'PROMPT_TUNING', prompt_tuning_init: 'TEXT' }), /needs prompt_tuning_init_text/);
});

test('merge, mixed batches, activating beside another adapter, and a mismatched config are clear errors', () => {
  const peft = getPeftModel(base('llama-tiny'), { peft_type: 'PROMPT_TUNING', num_virtual_tokens: 4 });
  assert.throws(
    () => peft.merge(),
    (e: unknown) => e instanceof ArgumentError && /cannot be merged/.test(e.message),
  );
  assert.throws(() => peft.mergeAndUnload(), /cannot be merged/);
  assert.throws(() => peft.forward({ inputIds: ids }, { adapterNames: ['default', '__base__'] }), /mixed batches are not supported with the prompt-based adapter 'default'/);
  peft.addAdapter('lora', { peft_type: 'LORA', r: 2 });
  assert.throws(() => peft.setAdapter(['default', 'lora']), /cannot be active together with other adapters/);
  assert.throws(
    () => getPeftModel(base('llama-tiny'), { peft_type: 'PREFIX_TUNING', token_dim: 64 }),
    (e: unknown) => e instanceof ConfigError && /token_dim is 64, but this model needs 32/.test(e.message),
  );
  assert.throws(() => getPeftModel(base('llama-tiny'), { peft_type: 'P_TUNING', encoder_num_layers: 3 }), /no effect on the MLP encoder/);
  assert.throws(() => getPeftModel(base('llama-tiny'), { peft_type: 'PROMPT_TUNING', num_virtual_tokens: 0 }), /num_virtual_tokens must be an integer >= 1/);
  // A p-tuning file holds only the encoder's output: it loads frozen, never for training.
  const trained = getPeftModel(base('llama-tiny'), { peft_type: 'P_TUNING', num_virtual_tokens: 4, encoder_hidden_size: 16 });
  const dir = tmp();
  saveAdapters(trained, dir);
  assert.throws(
    () => loadAdapter(new PeftModel(base('llama-tiny')), dir, 'default', { trainable: true }),
    (e: unknown) => e instanceof CheckpointError && /output of the adapter's encoder/.test(e.message),
  );
});

test('several prompt adapters: switch, delete; the active one alone changes the input', () => {
  const peft = getPeftModel(base('gpt2-tiny'), { peft_type: 'PROMPT_TUNING', num_virtual_tokens: 4 }, { seed: 1 });
  const first = logitsOf(peft.model);
  peft.addAdapter('prefix', { peft_type: 'PREFIX_TUNING', num_virtual_tokens: 2 });
  const second = logitsOf(peft.model);
  assert.notDeepEqual(second, first);
  peft.setAdapter('default');
  assert.deepEqual(logitsOf(peft.model), first);
  peft.deleteAdapter('default');
  assert.deepEqual(logitsOf(peft.model), logitsOf(base('gpt2-tiny')), 'no active adapter: the base');
});

function argmaxOfFullForward(model: CausalLM, row: number[]): number {
  const logits = noGrad(() => model.forward({ inputIds: Tensor.from(row, [1, row.length], 'int32') }));
  const V = logits.shape[2];
  assert.equal(logits.shape[1], row.length);
  const last = logits.contiguousData().subarray((row.length - 1) * V);
  return last.indexOf(Math.max(...last));
}

for (const modelName of ['gpt2-tiny', 'llama-tiny']) {
  for (const [label, config] of [CONFIGS[0], CONFIGS[4]]) {
    test(`${modelName}, ${label}: greedy generation with the KV cache equals the argmax of full forwards, batched and alone`, () => {
      const model = getPeftModel(base(modelName), config, { seed: 5 }).model as CausalLM;
      const prompts = [
        [5, 17, 300, 42, 7, 99],
        [3, 9],
        [11, 12, 13],
      ];
      const batched = generate(model, prompts, { maxNewTokens: 8, eosTokenId: -1 });
      prompts.forEach((p, i) => {
        const alone = generate(model, [p], { maxNewTokens: 8, eosTokenId: -1 })[0];
        assert.deepEqual(batched[i], alone, `row ${i}: batched equals alone`);
        assert.deepEqual(generate(model, [p], { maxNewTokens: 8, eosTokenId: -1, useCache: false })[0], alone, `row ${i}: without the cache`);
        alone.forEach((token, step) => assert.equal(token, argmaxOfFullForward(model, [...p, ...alone.slice(0, step)]), `row ${i} step ${step}`));
      });
      const sampled = generate(model, prompts, { maxNewTokens: 6, temperature: 1, topP: 0.9, seed: 4, eosTokenId: -1 });
      assert.deepEqual(generate(model, prompts, { maxNewTokens: 6, temperature: 1, topP: 0.9, seed: 4, eosTokenId: -1 }), sampled, 'sampling is seeded');
    });
  }
}

test('an input longer than the context left after the virtual tokens is a clear error, in forward and generate', () => {
  for (const peftType of ['PROMPT_TUNING', 'PREFIX_TUNING']) {
    const model = getPeftModel(base('gpt2-tiny'), { peft_type: peftType, num_virtual_tokens: 4 }).model as CausalLM; // 128 positions
    assert.doesNotThrow(() => logitsOf(model, Tensor.zeros([1, 124], 'int32')));
    assert.throws(
      () => logitsOf(model, Tensor.zeros([1, 125], 'int32')),
      (e: unknown) => e instanceof ArgumentError && /125 tokens do not fit in the 124 positions .* after 4 virtual tokens/.test(e.message),
    );
    assert.throws(() => generate(model, [new Array(120).fill(1)], { maxNewTokens: 5 }), /exceeds the 124 positions left after the adapter's 4 virtual tokens/);
  }
});

for (const peftType of ['PROMPT_TUNING', 'PREFIX_TUNING']) {
  test(`BERT ${peftType} (SEQ_CLS): trains the prompt and its own head, saves PEFT's keys, reloads exactly, disabled equals the base`, () => {
    const tokens = Tensor.from([2, 40, 41, 42, 3, 2, 50, 51, 3, 0], [2, 5], 'int32');
    const attentionMask = Tensor.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 0], [2, 5]);
    const run = (m: PretrainedModel) => noGrad(() => (m.forward as (i: unknown) => Tensor)({ inputIds: tokens, attentionMask })).contiguousData();
    const peft = getPeftModel(base('bert-tiny'), { peft_type: peftType, task_type: 'SEQ_CLS', num_virtual_tokens: 3 }, { seed: 2 });
    const names = peft.model.trainableParameters().map(([n]) => n);
    assert.deepEqual(names, ['classifier.modules_to_save.default.weight', 'classifier.modules_to_save.default.bias', 'input_tuner.prompt_encoder.default.embedding.weight']);
    const dir = tmp();
    saveAdapters(peft, dir);
    assert.deepEqual([...loadSafetensors(join(dir, 'adapter_model.safetensors')).keys()].sort(), ['base_model.classifier.bias', 'base_model.classifier.weight', 'prompt_embeddings']);
    assert.deepEqual(run(loadPeftModel(base('bert-tiny'), dir).model), run(peft.model));
    assert.deepEqual(
      peft.withAdaptersDisabled(() => run(peft.model)),
      run(base('bert-tiny')),
    );
  });
}

test("DePT: the prompt in front of the token embeddings plus row i of A@B at each row's i-th real token; two learning rates", () => {
  const model = base('llama-tiny') as CausalLM;
  const peft = getPeftModel(model, { peft_type: 'DEPT', num_virtual_tokens: 3, r: 2, low_rank_positions: 4, low_rank_learning_rate: 1e-4 }, { seed: 1 });
  const state = peft.adapterStateDict('default');
  normal_(state.get('lora_embedding_B')!, 0.5, new Generator(3));
  assert.deepEqual(peft.learningRates('default'), { 'input_tuner.prompt_encoder.default.lora_embedding_A': 1e-4, 'input_tuner.prompt_encoder.default.lora_embedding_B': 1e-4 });
  // By hand: positions 0..3 get rows of A@B, positions from low_rank_positions on are unchanged.
  const update = noGrad(() => state.get('lora_embedding_A')!.matmul(state.get('lora_embedding_B')!)).contiguousData();
  const row = [3, 14, 15, 92, 65, 35];
  const embeds = noGrad(() => model.inputEmbeddings().forward(Tensor.from(row, [1, 6], 'int32')))
    .contiguousData()
    .slice();
  for (let i = 0; i < 4; i++) for (let j = 0; j < 64; j++) embeds[i * 64 + j] += update[i * 64 + j];
  const manual = peft.withAdaptersDisabled(() => noGrad(() => model.forward({ inputsEmbeds: concat([state.get('prompt_embeddings')!, new Tensor(embeds, [6, 64])], 0).reshape([1, 9, 64]) })));
  const viaAdapter = logitsOf(model, Tensor.from(row, [1, 6], 'int32'));
  const expected = manual.narrow(1, 3, 6).contiguousData();
  assert.ok(
    viaAdapter.every((v, i) => Math.abs(v - expected[i]) < 1e-5),
    'DePT logits equal the hand-built input',
  );
  // Positions count real tokens, so a left-padded batch decodes each row as alone.
  const prompts = [
    [5, 17, 300],
    [3, 9, 11, 12, 13],
  ];
  const batched = generate(model, prompts, { maxNewTokens: 5, eosTokenId: -1 });
  prompts.forEach((p, i) => {
    const alone = generate(model, [p], { maxNewTokens: 5, eosTokenId: -1 })[0];
    assert.deepEqual(batched[i], alone);
    alone.forEach((token, step) => assert.equal(token, argmaxOfFullForward(model, [...p, ...alone.slice(0, step)])));
  });
});
