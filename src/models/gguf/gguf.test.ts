import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertClose, fixturesDir, repoRoot } from '../../../test/helpers.js';
import { CheckpointError, ConfigError } from '../../errors.js';
import { HFTokenizer, readGGUFHeader, writeGGUF, type GGUFFloatType } from '../../io/index.js';
import { Tensor } from '../../tensor/index.js';
import { buildModel, loadPretrained, parseConfig } from '../load.js';
import type { CausalLM } from '../model.js';
import { loadGGUFModel, modelToGGUF, permuteRows, tokenizerFromGGUF } from './index.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'peft-ts-gguf-model-'));

function exportTo(dir: string, type: GGUFFloatType, withTokenizer = false): string {
  const path = join(tmp(), 'm.gguf');
  const tokenizer = withTokenizer ? HFTokenizer.fromDir(dir) : undefined;
  const { metadata, tensors } = modelToGGUF(loadPretrained(dir).model, { type, name: 'm', tokenizer: tokenizer && { json: tokenizer.json, config: tokenizer.config } });
  writeGGUF(path, metadata, tensors);
  return path;
}

const logits = (model: CausalLM, ids: number[]) => model.forward({ inputIds: Tensor.from(ids, [1, ids.length], 'int32') }).contiguousData();

test("Llama's Q/K row order: per head, rotate-half pairs (i, i + d/2) become adjacent, as convert_hf_to_gguf.py permutes", () => {
  const rows = Float32Array.from({ length: 8 }, (_, i) => i);
  assert.deepEqual([...permuteRows(rows, 8, 2)], [0, 2, 1, 3, 4, 6, 5, 7]);
  const matrix = Float32Array.from({ length: 24 }, (_, i) => i);
  assert.deepEqual([...permuteRows(permuteRows(matrix, 12, 2), 12, 2, true)], [...matrix]);
});

test('export then import gives back every parameter exactly (f32) and the same logits: gpt2, llama, qwen2', () => {
  for (const fixture of ['gpt2-tiny', 'llama-tiny', 'qwen2-tiny']) {
    const dir = join(fixturesDir, fixture);
    const original = loadPretrained(dir).model as CausalLM;
    const path = exportTo(dir, 'F32');
    const { model } = loadGGUFModel(path);
    const state = model.stateDict();
    for (const [name, t] of original.stateDict()) assert.deepEqual(state.get(name)?.toArray(), t.toArray(), `${fixture} ${name}`);
    assertClose(logits(model as CausalLM, [3, 1, 4, 1, 5]), logits(original, [3, 1, 4, 1, 5]), 1e-5, 1e-5, `${fixture} logits`);
    const names = [...readGGUFHeader(path).tensors.keys()];
    assert.ok(names.includes('blk.1.attn_output.weight') && names.includes('output_norm.weight'), `${fixture}: llama.cpp names`);
  }
});

test('f16, bf16 and q8_0 files import dequantised, within their storage error', () => {
  const dir = join(fixturesDir, 'llama-tiny');
  const original = loadPretrained(dir).model as CausalLM;
  const expected = logits(original, [7, 8, 9]);
  const tolerance = { F16: 2e-3, BF16: 3e-2, Q8_0: 3e-2 } as const;
  for (const type of ['F16', 'BF16', 'Q8_0'] as const) {
    const path = exportTo(dir, type);
    assert.equal(readGGUFHeader(path).tensors.get('blk.0.attn_q.weight')!.type, type);
    assert.equal(readGGUFHeader(path).tensors.get('blk.0.attn_norm.weight')!.type, 'F32', 'vectors stay f32');
    // ffn_down's rows (176 values) are not whole Q8_0 blocks: the converter's F16 fallback.
    assert.equal(readGGUFHeader(path).tensors.get('blk.0.ffn_down.weight')!.type, type === 'Q8_0' ? 'F16' : type);
    assertClose(logits(loadGGUFModel(path).model as CausalLM, [7, 8, 9]), expected, tolerance[type], 0, `${type} logits`);
  }
});

test('the tokenizer travels: tokenizer.ggml.* rebuilt into tokenizer.json encodes text as the original', () => {
  const dir = join(repoRoot, 'models', 'default');
  const path = exportTo(dir, 'F16', true);
  const header = readGGUFHeader(path);
  const meta = (k: string) => header.metadata.get(k)?.value;
  assert.equal(meta('tokenizer.ggml.model'), 'gpt2');
  assert.equal(meta('tokenizer.ggml.pre'), 'gpt-2');
  assert.equal(meta('tokenizer.ggml.eos_token_id'), 8191);
  assert.equal((meta('tokenizer.ggml.tokens') as string[]).length, 8192);
  const files = tokenizerFromGGUF(header)!;
  const original = HFTokenizer.fromDir(dir),
    rebuilt = new HFTokenizer(files.json, files.config);
  const text = "The State of the Union, 1862: we can't escape history.\n  Numbers 12345 and émigrés<|endoftext|>";
  assert.deepEqual(rebuilt.encode(text), original.encode(text));
});

test('a GGUF adapter or an unknown architecture passed as a model is refused with what to do', () => {
  const path = exportTo(join(fixturesDir, 'llama-tiny'), 'F32');
  const header = readGGUFHeader(path);
  const retag = (key: string, value: string) => {
    const metadata = new Map(header.metadata);
    metadata.set(key, { type: 'string', value });
    const out = join(tmp(), 'x.gguf');
    writeGGUF(out, metadata, []);
    return out;
  };
  assert.throws(
    () => loadGGUFModel(retag('general.type', 'adapter')),
    (e: unknown) => e instanceof CheckpointError && /is a GGUF adapter/.test(e.message),
  );
  assert.throws(
    () => loadGGUFModel(retag('general.architecture', 'mamba')),
    (e: unknown) => e instanceof CheckpointError && /'mamba' model, which peft-ts does not import/.test(e.message),
  );
  const bert = loadPretrained(join(fixturesDir, 'bert-tiny')).model;
  assert.throws(
    () => modelToGGUF(bert, { type: 'F32', name: 'b' }),
    (e: unknown) => e instanceof ConfigError && /gpt2, llama, mistral and qwen2/.test(e.message),
  );
});

test('Mistral is written as llama (as the converter maps MistralForCausalLM), Q/K rows reordered, and imports as llama', () => {
  const { model: llamaModel } = loadPretrained(join(fixturesDir, 'llama-tiny'));
  const mistral = buildModel(parseConfig({ ...llamaModel.config.raw, model_type: 'mistral' }), llamaModel.stateDict()).model;
  const path = join(tmp(), 'mistral.gguf');
  const { metadata, tensors } = modelToGGUF(mistral, { type: 'F32', name: 'mistral' });
  writeGGUF(path, metadata, tensors);
  assert.equal(readGGUFHeader(path).metadata.get('general.architecture')?.value, 'llama');
  const q = tensors.find((t) => t.name === 'blk.0.attn_q.weight')!;
  const hf = llamaModel.stateDict().get('model.layers.0.self_attn.q_proj.weight')!.contiguousData();
  assert.deepEqual([...q.data.subarray(64, 128)], [...hf.subarray(8 * 64, 9 * 64)], 'head 0 row 1 holds HF row d/2 = 8');
  assertClose(logits(loadGGUFModel(path).model as CausalLM, [1, 2, 3]), logits(mistral as CausalLM, [1, 2, 3]), 1e-5, 1e-5, 'logits');
});
