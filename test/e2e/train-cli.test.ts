import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gpt2WithWordTokenizer, runCli, tempDir } from '../cli.js';

function data(): string {
  const path = join(tempDir(), 'train.jsonl');
  const rows = Array.from({ length: 24 }, (_, i) => ({ question: `w${i} w${i + 1} w${i + 2}`, answer: ` w${(i * 7) % 50}` }));
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n'));
  return path;
}

/** Reads a safetensors header with nothing but the format's spec: 8-byte little-endian length, then JSON. */
function specHeader(path: string): Record<string, { dtype: string; shape: number[] }> {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  delete header.__metadata__;
  return header;
}

test('peft-ts train writes an adapter in HF PEFT layout (checked against the spec) and a JSON summary', () => {
  const out = join(tempDir(), 'adapter');
  const r = runCli(
    'train',
    '--model',
    gpt2WithWordTokenizer(),
    '--data',
    data(),
    '--template',
    'Q: {question} A:',
    '--completion-field',
    'answer',
    '--out',
    out,
    '--epochs',
    '2',
    '--batch-size',
    '4',
    '--lr',
    '1e-2',
    '--r',
    '4',
    '--lora-alpha',
    '8',
    '--json',
  );
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.steps, Math.ceil(22 / 4) * 2);
  assert.ok(summary.final_loss < 10 && summary.best_validation_loss !== null);
  const header = specHeader(join(out, 'adapter_model.safetensors'));
  assert.deepEqual(Object.keys(header).sort(), [0, 1].flatMap((i) => ['A', 'B'].map((m) => `base_model.model.transformer.h.${i}.attn.c_attn.lora_${m}.weight`)).sort());
  for (const [key, info] of Object.entries(header)) {
    assert.equal(info.dtype, 'F32');
    assert.deepEqual(info.shape, key.includes('lora_A') ? [4, 64] : [192, 4]);
  }
  const config = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
  assert.deepEqual(
    [config.peft_type, config.r, config.lora_alpha, config.target_modules, config.fan_in_fan_out, config.task_type, config.inference_mode],
    ['LORA', 4, 8, ['c_attn'], true, 'CAUSAL_LM', true],
  );
});

test('settings come from a YAML config file; flags override it', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'train.yaml'), `model: ${gpt2WithWordTokenizer()}\ndata: ${data()}\ntemplate: "Q: {question} A:"\ncompletion_field: answer\nmaxSteps: 2\nbatch-size: 4\nr: 2\n`);
  const r = runCli('train', '--config', join(dir, 'train.yaml'), '--out', join(dir, 'a'), '--r', '3', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).steps, 2);
  assert.equal(JSON.parse(readFileSync(join(dir, 'a', 'adapter_config.json'), 'utf8')).r, 3);
  writeFileSync(join(dir, 'bad.yaml'), 'learning_rat: 3\n');
  const bad = runCli('train', '--config', join(dir, 'bad.yaml'));
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown setting 'learning_rat' \(did you mean 'learning_rate'\?\)/);
  // A config written for transformers' Trainer: every key it cannot take, in one message, each with what to do.
  writeFileSync(join(dir, 'hf.yaml'), 'learning_rate: 1e-4\nfp16: true\nreport_to: wandb\nzzz: 1\n');
  const hf = runCli('train', '--config', join(dir, 'hf.yaml'));
  assert.equal(hf.code, 2);
  assert.match(hf.stderr, /unknown settings 'fp16' \(CPU training is float32; dtype: bf16[^)]*\); 'report_to' \(peft-ts writes metrics\.jsonl[^)]*\); 'zzz'\./);
  assert.match(hf.stderr, /Accepted: .*learning_rate.*num_train_epochs/);
});

test('bad training data fails with the file and line, before anything is written', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'bad.jsonl'), '{"prompt": "w1", "completion": " w2"}\n{"prompt": "w3"}\n');
  const r = runCli('train', '--model', gpt2WithWordTokenizer(), '--data', join(dir, 'bad.jsonl'), '--out', join(dir, 'out'), '--validation-fraction', '0');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.jsonl:2: missing field 'completion'/);
});
