/**
 * `peft-ts train` with every registered layer method, configured by the adapter_config.json HF
 * PEFT wrote for it (peft-zoo): what it saves must be in PEFT's layout, field for field and key
 * for key, as PEFT's own file and fixture.json describe it (not as our writer does).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir } from '../helpers.js';
import { runCli, tempDir, withWordTokenizer } from '../cli.js';
import { layerZooFixtures, promptZooFixtures } from '../zoo.js';

/** Reads a safetensors header with nothing but the format's spec: 8-byte little-endian length, then JSON. */
function specHeader(path: string): Record<string, { dtype: string; shape: number[] }> {
  const bytes = readFileSync(path);
  const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8'));
  delete header.__metadata__;
  return header;
}

function data(): string {
  const path = join(tempDir(), 'train.jsonl');
  writeFileSync(path, Array.from({ length: 12 }, (_, i) => JSON.stringify({ prompt: `w${i} w${i + 1}`, completion: ` w${(i * 7) % 50}` })).join('\n'));
  return path;
}

/** Fields whose saved value depends on the run, not on the config (AdaLoRA's rank_pattern is the allocation training reached). */
const RUN_FIELDS = new Set(['base_model_name_or_path', 'rank_pattern']);

/** PEFT's saved shapes once AdaLoRA has pruned: each module keeps the triplets its rank_pattern marks (resize_state_dict_by_rank_pattern). */
function prunedShapes(keys: Record<string, number[]>, rankPattern: Record<string, boolean[]> | null | undefined): Record<string, number[]> {
  if (!rankPattern) return keys;
  return Object.fromEntries(
    Object.entries(keys).map(([k, shape]) => {
      const m = /^base_model\.model\.(.+)\.lora_([AEB])$/.exec(k);
      const keep = m && rankPattern[`${m[1]}.lora_E`];
      if (!m || !keep) return [k, shape];
      const kept = keep.filter(Boolean).length;
      return [k, m[2] === 'B' ? [shape[0], kept] : [kept, shape[1]]];
    }),
  );
}

for (const f of [...layerZooFixtures(), ...promptZooFixtures()].filter((z) => z.base !== 'bert-tiny' && !z.fixture.includes('lora-'))) {
  test(`peft-ts train with ${f.peft_type} configured as ${f.fixture} saves HF PEFT's layout`, () => {
    const dir = tempDir();
    const peftConfig = JSON.parse(readFileSync(join(fixturesDir, 'peft-zoo', f.fixture, 'adapter_config.json'), 'utf8'));
    writeFileSync(join(dir, 'peft.json'), JSON.stringify({ ...peftConfig, inference_mode: false }));
    const out = join(dir, 'adapter');
    const r = runCli(
      'train',
      '--model',
      withWordTokenizer(f.base),
      '--data',
      data(),
      '--peft-config',
      join(dir, 'peft.json'),
      '--out',
      out,
      '--max-steps',
      '2',
      '--batch-size',
      '4',
      '--validation-fraction',
      '0',
      '--json',
    );
    assert.equal(r.code, 0, r.stderr);
    const saved = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
    assert.deepEqual(Object.keys(saved).sort(), Object.keys(peftConfig).sort(), 'the same fields as PEFT writes');
    for (const [k, v] of Object.entries(peftConfig)) if (!RUN_FIELDS.has(k)) assert.deepEqual(saved[k], v, k);
    const header = specHeader(join(out, 'adapter_model.safetensors'));
    assert.deepEqual(Object.fromEntries(Object.entries(header).map(([k, t]) => [k, t.shape])), prunedShapes(f.saved_keys, saved.rank_pattern));
    assert.ok(Object.values(header).every((t) => t.dtype === 'F32'));
  });
}

test('peft-ts train --method: a field of another method is refused naming its owner; peft-ts methods lists fields from the declarations', () => {
  const model = withWordTokenizer('llama-tiny');
  const wrong = runCli('train', '--model', model, '--data', data(), '--out', join(tempDir(), 'a'), '--method', 'ln-tuning', '--r', '4');
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /--r is not a field of ln-tuning; it belongs to lora/);
  const typo = runCli('train', '--model', model, '--data', data(), '--out', join(tempDir(), 'a'), '--method', 'lroa');
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /no method named 'lroa'.*Did you mean 'lora'/);
  const listed = runCli('methods', '--json');
  assert.equal(listed.code, 0, listed.stderr);
  const methods = JSON.parse(listed.stdout) as { name: string; fields: { name: string; default: unknown }[] }[];
  const lora = methods.find((m) => m.name === 'lora')!;
  assert.deepEqual(lora.fields.find((x) => x.name === 'r')!.default, 8);
  assert.ok(methods.some((m) => m.name === 'trainable-tokens' && m.fields.some((x) => x.name === 'token_indices')));
  const one = runCli('methods', 'lora');
  assert.match(one.stdout, /--lora-alpha\s+8\s+scaling numerator/);
});

test('peft-ts train: a true-by-default method switch turns off with --no-<flag>, and the saved config says so', () => {
  const model = withWordTokenizer('gpt2-tiny');
  for (const [args, expected] of [
    [[], true],
    [['--no-init-ia3-weights'], false],
  ] as const) {
    const out = join(tempDir(), 'ia3');
    const r = runCli('train', '--model', model, '--data', data(), '--out', out, '--method', 'ia3', ...args, '--max-steps', '1', '--batch-size', '4', '--validation-fraction', '0', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8')).init_ia3_weights, expected);
  }
});

test('peft-ts train --method prompt-tuning and dept: fields as flags, virtual tokens counted against --max-length, DePT saves its three tensors', () => {
  const model = withWordTokenizer('gpt2-tiny'); // 128 positions
  const tooLong = runCli('train', '--model', model, '--data', data(), '--out', join(tempDir(), 'a'), '--method', 'prompt-tuning', '--num-virtual-tokens', '4', '--max-length', '126');
  assert.equal(tooLong.code, 1);
  assert.match(tooLong.stderr, /--max-length 126 exceeds the 124 positions the model's 128 leave after the virtual tokens/);
  const out = join(tempDir(), 'dept');
  const r = runCli(
    'train',
    '--model',
    model,
    '--data',
    data(),
    '--out',
    out,
    '--method',
    'dept',
    '--num-virtual-tokens',
    '3',
    '--r',
    '2',
    '--low-rank-positions',
    '8',
    '--low-rank-learning-rate',
    '0.001',
    '--max-steps',
    '2',
    '--batch-size',
    '4',
    '--validation-fraction',
    '0',
    '--json',
  );
  assert.equal(r.code, 0, r.stderr);
  const header = specHeader(join(out, 'adapter_model.safetensors'));
  assert.deepEqual(Object.fromEntries(Object.entries(header).map(([k, t]) => [k, t.shape])), { lora_embedding_A: [8, 2], lora_embedding_B: [2, 64], prompt_embeddings: [3, 64] });
  assert.equal(JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8')).peft_type, 'DEPT');
});
