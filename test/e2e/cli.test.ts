import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSafetensors } from '../../src/io/index.js';
import { generate, loadPretrained, type CausalLM } from '../../src/models/index.js';
import { logSoftmax, noGrad, Tensor } from '../../src/tensor/index.js';
import { assertClose, fixturesDir } from '../helpers.js';
import { gpt2WithWordTokenizer, runCli, tempDir } from '../cli.js';
import { layerZooFixtures } from '../zoo.js';

function tensorsToJson(ids: Tensor): number[][] {
  const [b, t] = ids.shape;
  const flat = ids.toArray();
  return Array.from({ length: b }, (_, i) => flat.slice(i * t, (i + 1) * t));
}

const FORWARD_CASES: [string, string | null][] = [
  ['gpt2-tiny', null],
  ['llama-tiny', null],
  ['qwen2-tiny', null],
  ['bert-tiny', null],
  ['gpt2-tiny', 'gpt2-tiny-lora'],
  ['llama-tiny', 'llama-tiny-lora'],
  ['qwen2-tiny', 'qwen2-tiny-lora'],
  ['bert-tiny', 'bert-tiny-lora'],
  // Every HF PEFT zoo adapter of a method peft-ts registers, through the CLI too.
  ...layerZooFixtures().map((f): [string, string] => [f.base, `peft-zoo/${f.fixture}`]),
  // Prompt-based adapters: logits of the real positions only (the virtual tokens are left out).
  ['llama-tiny', 'peft-zoo/llama-tiny-prompt-tuning'],
  ['llama-tiny', 'peft-zoo/llama-tiny-p-tuning'],
  ['llama-tiny', 'peft-zoo/llama-tiny-prefix-tuning'],
  ['bert-tiny', 'peft-zoo/bert-tiny-prompt-tuning'],
];
for (const [model, adapter] of FORWARD_CASES) {
  const name = adapter ?? model;
  test(`peft-ts forward${adapter ? ' --adapter' : ''} reproduces ${name}'s PyTorch logits`, () => {
    const dir = tempDir();
    const expected = loadSafetensors(join(fixturesDir, name, 'expected.safetensors'));
    const inputs: Record<string, number[][]> = { input_ids: tensorsToJson(expected.get('input_ids')!) };
    if (expected.has('attention_mask')) inputs.attention_mask = tensorsToJson(expected.get('attention_mask')!);
    if (expected.has('token_type_ids')) inputs.token_type_ids = tensorsToJson(expected.get('token_type_ids')!);
    writeFileSync(join(dir, 'in.json'), JSON.stringify(inputs));
    const r = runCli(
      'forward',
      '--model',
      join(fixturesDir, model),
      ...(adapter ? ['--adapter', join(fixturesDir, adapter)] : []),
      '--inputs',
      join(dir, 'in.json'),
      '--out',
      join(dir, 'out.safetensors'),
    );
    assert.equal(r.code, 0, r.stderr);
    const logits = loadSafetensors(join(dir, 'out.safetensors')).get('logits')!;
    if (model === 'bert-tiny') assertClose(logits.contiguousData(), expected.get('logits')!.contiguousData(), 1e-4, 1e-4, 'logits');
    else {
      const slice = expected.get('logits_slice')!;
      assertClose(logits.narrow(2, 0, slice.shape[2]).contiguousData(), slice.contiguousData(), 1e-4, 0, 'logits');
    }
  });
}

test('peft-ts generate continues a prompt as the library does', () => {
  const dir = gpt2WithWordTokenizer();
  const r = runCli('generate', '--model', dir, '--prompt', 'w5 w17 w300', '--max-new-tokens', '6', '--json');
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  const model = loadPretrained(dir).model as CausalLM;
  assert.deepEqual(result.new_tokens, generate(model, [[5, 17, 300]], { maxNewTokens: 6, eosTokenId: 999 })[0]);
  assert.equal(result.prompt_tokens, 3);
});

test('peft-ts generate --dtype bf16 decodes as the library does on bfloat16 weights; a bad --dtype names the accepted ones', () => {
  const dir = gpt2WithWordTokenizer();
  const r = runCli('generate', '--model', dir, '--dtype', 'bf16', '--prompt', 'w5 w17 w300', '--max-new-tokens', '6', '--json');
  assert.equal(r.code, 0, r.stderr);
  const model = loadPretrained(dir, { dtype: 'bfloat16' }).model as CausalLM;
  assert.deepEqual(JSON.parse(r.stdout).new_tokens, generate(model, [[5, 17, 300]], { maxNewTokens: 6, eosTokenId: 999 })[0]);
  const bad = runCli('generate', '--model', dir, '--dtype', 'fp8', '--prompt', 'w5');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--dtype 'fp8'.*auto, float32, f32, bfloat16, bf16/s);
});

test('peft-ts score reports per-token log-probs, mean NLL and perplexity', () => {
  const dir = gpt2WithWordTokenizer();
  const r = runCli('score', '--model', dir, '--text', 'w1 w2 w3 w4', '--json');
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  const model = loadPretrained(dir).model as CausalLM;
  const logp = noGrad(() => logSoftmax(model.forward({ inputIds: Tensor.from([1, 2, 3, 4], [1, 4], 'int32') }))).contiguousData();
  const expected = [2, 3, 4].map((id, i) => logp[i * 1000 + id]);
  assertClose(
    result.tokens.map((t: { logprob: number }) => t.logprob),
    expected,
    1e-6,
    0,
    'logprobs',
  );
  assert.ok(Math.abs(result.mean_nll + expected.reduce((a, b) => a + b) / 3) < 1e-6);
  assert.ok(Math.abs(result.perplexity - Math.exp(result.mean_nll)) < 1e-9);
});

test('peft-ts info reports architecture and parameter count as JSON', () => {
  const r = runCli('info', join(fixturesDir, 'llama-tiny'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.model_type, 'llama');
  const { model } = loadPretrained(join(fixturesDir, 'llama-tiny'));
  assert.equal(
    result.parameters,
    model.parameters().reduce((n, t) => n + t.size, 0),
  );
  assert.deepEqual(result.stored_dtypes, { F32: model.stateDict().size });
});

test('CLI errors: usage mistakes exit 2, bad input exits 1, both say what to do', () => {
  const unknown = runCli('forward', '--model', join(fixturesDir, 'gpt2-tiny'), '--bogus');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown option '--bogus'[\s\S]*peft-ts forward --help/);
  const missing = runCli('forward', '--inputs', 'x.json', '--out', 'y');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--model is required/);
  const noModel = runCli('info', '--model', tempDir());
  assert.equal(noModel.code, 1);
  assert.match(noModel.stderr, /config\.json not found/);
  assert.equal(runCli('frobnicate').code, 2);
});

test('peft-ts merge writes a full checkpoint that computes what base + adapter computed', () => {
  const dir = gpt2WithWordTokenizer();
  const out = join(tempDir(), 'merged');
  const r = runCli('merge', '--model', dir, '--adapter', join(fixturesDir, 'gpt2-tiny-lora'), '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const expected = loadSafetensors(join(fixturesDir, 'gpt2-tiny-lora', 'expected.safetensors'));
  const merged = loadPretrained(out).model as CausalLM;
  const logits = noGrad(() => merged.forward({ inputIds: expected.get('input_ids')! }));
  assertClose(logits.narrow(2, 0, 256).contiguousData(), expected.get('logits_slice')!.contiguousData(), 1e-4, 0, 'merged logits');
  assert.ok(existsSync(join(out, 'tokenizer.json')) && existsSync(join(out, 'tokenizer_config.json')));
  const again = runCli('merge', '--model', dir, '--adapter', join(fixturesDir, 'gpt2-tiny-lora'), '--out', out);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /is not empty .*--overwrite/);
});
