import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readGGUFHeader } from '../../src/io/index.js';
import { loadPretrained } from '../../src/models/index.js';
import { getPeftModel, saveAdapters } from '../../src/peft/index.js';
import { fixtureWithGpt2Tokenizer, runCli, tempDir } from '../cli.js';
import { repoRoot } from '../helpers.js';

const model = fixtureWithGpt2Tokenizer('llama-tiny');

function adapter(extra: Record<string, unknown> = {}): string {
  const peft = getPeftModel(loadPretrained(model).model, { peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'], init_lora_weights: false, ...extra }, { seed: 1 });
  const dir = join(tempDir('adapter'), 'a');
  saveAdapters(peft, dir);
  return dir;
}

const meta = (path: string, key: string) => readGGUFHeader(path).metadata.get(key)?.value;

test('export gguf writes the base model as llama.cpp names it (f16 by default), with its tokenizer and chat template', () => {
  const withTemplate = fixtureWithGpt2Tokenizer('llama-tiny');
  const template = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}";
  const tokenizerConfig = JSON.parse(readFileSync(join(withTemplate, 'tokenizer_config.json'), 'utf8'));
  writeFileSync(join(withTemplate, 'tokenizer_config.json'), JSON.stringify({ ...tokenizerConfig, chat_template: template }));
  const out = join(tempDir('gguf'), 'base.gguf');
  const r = runCli('export', 'gguf', '--model', withTemplate, '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const header = readGGUFHeader(out);
  assert.equal(meta(out, 'general.architecture'), 'llama');
  assert.equal(meta(out, 'general.type'), 'model');
  assert.equal(meta(out, 'general.file_type'), 1);
  assert.deepEqual(
    [meta(out, 'llama.block_count'), meta(out, 'llama.attention.head_count'), meta(out, 'llama.attention.head_count_kv'), meta(out, 'llama.rope.freq_base'), meta(out, 'llama.feed_forward_length')],
    [2, 4, 2, 50000, 176],
  );
  assert.equal(meta(out, 'tokenizer.ggml.model'), 'gpt2');
  assert.equal(meta(out, 'tokenizer.ggml.pre'), 'gpt-2');
  assert.equal(meta(out, 'tokenizer.ggml.eos_token_id'), 511);
  assert.equal(meta(out, 'tokenizer.chat_template'), template);
  assert.equal((meta(out, 'tokenizer.ggml.merges') as string[]).length, 512 - 257);
  assert.equal(header.tensors.get('blk.1.attn_k.weight')!.type, 'F16');
  assert.deepEqual(header.tensors.get('blk.1.attn_k.weight')!.shape, [32, 64]);
  assert.equal(header.tensors.get('output_norm.weight')!.type, 'F32');
  assert.ok(header.tensors.has('output.weight'), 'untied head written');
});

test('export gguf --adapter writes a llama.cpp LoRA adapter; --merge writes the merged model', () => {
  const dir = tempDir('gguf');
  const a = adapter();
  const r = runCli('export', 'gguf', '--model', model, '--adapter', a, '--out', join(dir, 'lora.gguf'), '--type', 'f32');
  assert.equal(r.code, 0, r.stderr);
  const lora = readGGUFHeader(join(dir, 'lora.gguf'));
  assert.deepEqual([meta(join(dir, 'lora.gguf'), 'general.type'), meta(join(dir, 'lora.gguf'), 'adapter.type'), meta(join(dir, 'lora.gguf'), 'adapter.lora.alpha')], ['adapter', 'lora', 8]);
  assert.deepEqual([...lora.tensors.keys()].sort(), [0, 1].flatMap((b) => ['q', 'v'].flatMap((m) => ['a', 'b'].map((ab) => `blk.${b}.attn_${m}.weight.lora_${ab}`))).sort());
  assert.deepEqual(lora.tensors.get('blk.0.attn_v.weight.lora_a')!.shape, [4, 64]);
  assert.deepEqual(lora.tensors.get('blk.0.attn_v.weight.lora_b')!.shape, [32, 4]);
  const merged = join(dir, 'merged.gguf');
  assert.equal(runCli('export', 'gguf', '--model', model, '--adapter', a, '--merge', '--out', merged, '--type', 'q8_0').code, 0);
  assert.equal(meta(merged, 'general.type'), 'model');
  assert.equal(meta(merged, 'general.file_type'), 7);
  assert.ok(![...readGGUFHeader(merged).tensors.keys()].some((k) => k.includes('lora')));
});

test('an exported GGUF is a --model for the other commands: generate gives the same text as from the folder', () => {
  const dir = join(repoRoot, 'models', 'default');
  const file = join(tempDir('gguf'), 'default.gguf');
  assert.equal(runCli('export', 'gguf', '--model', dir, '--out', file, '--type', 'f32').code, 0);
  const args = ['--prompt', 'The president said', '--max-new-tokens', '8'];
  const fromFolder = runCli('generate', '--model', dir, ...args),
    fromGGUF = runCli('generate', '--model', file, ...args);
  assert.equal(fromGGUF.code, 0, fromGGUF.stderr);
  assert.equal(fromGGUF.stdout, fromFolder.stdout);
});

test('export gguf refuses bad requests with one line saying what to do, and overwrites nothing', () => {
  const dir = tempDir('gguf');
  const expectFail = (code: number, pattern: RegExp, ...args: string[]) => {
    const r = runCli('export', ...args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  };
  expectFail(2, /format 'onnx' is not accepted.*Accepted: gguf/, 'onnx', '--model', model, '--out', join(dir, 'x'));
  expectFail(2, /--type 'q4_0' is not accepted.*f32, f16, bf16, q8_0/, 'gguf', '--model', model, '--out', join(dir, 'x'), '--type', 'q4_0');
  expectFail(2, /--merge needs at least one --adapter/, 'gguf', '--model', model, '--out', join(dir, 'x'), '--merge');
  writeFileSync(join(dir, 'taken.gguf'), 'keep me');
  expectFail(1, /already exists.*nothing was overwritten/, 'gguf', '--model', model, '--out', join(dir, 'taken.gguf'));
  assert.equal(readFileSync(join(dir, 'taken.gguf'), 'utf8'), 'keep me');
  expectFail(1, /uses DoRA.*--merge/, 'gguf', '--model', model, '--adapter', adapter({ use_dora: true }), '--out', join(dir, 'd.gguf'));
  const noTokenizer = tempDir('model');
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(model, f), join(noTokenizer, f));
  expectFail(1, /tokenizer\.json not found/, 'gguf', '--model', noTokenizer, '--out', join(dir, 'n.gguf'));
});
