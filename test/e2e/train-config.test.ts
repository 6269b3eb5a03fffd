import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHeader } from '../../src/io/index.js';
import { gpt2WithWordTokenizer, runCli, tempDir } from '../cli.js';

/** 24 prompt/completion records over the word tokenizer's vocabulary. */
function data(dir: string, name = 'train.jsonl', prefix = ''): string {
  const path = join(dir, name);
  writeFileSync(path, prefix + Array.from({ length: 24 }, (_, i) => JSON.stringify({ prompt: `w${i} w${i + 1}`, completion: ` w${(i * 7) % 50}` })).join('\n'));
  return path;
}

const adapterConfig = (dir: string) => JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
const adapterKeys = (dir: string) => [...readHeader(join(dir, 'adapter_model.safetensors')).tensors.keys()];

test('YAML with Hugging Face TrainingArguments names and a peft: block trains what it says', () => {
  const dir = tempDir();
  const out = join(dir, 'adapter');
  writeFileSync(
    join(dir, 'train.yaml'),
    [
      `model: ${gpt2WithWordTokenizer()}`,
      `data: ${data(dir)}`,
      `output_dir: ${out}`,
      'validation_fraction: 0.25',
      'learning_rate: 0.01',
      'num_train_epochs: 1',
      'max_steps: 4',
      'per_device_train_batch_size: 3',
      'gradient_accumulation_steps: 2',
      'warmup_ratio: 0.5',
      'lr_scheduler_type: linear',
      'weight_decay: 0.01',
      'max_grad_norm: 0.5',
      'seed: 3',
      'logging_steps: 2',
      'eval_steps: 2',
      'save_steps: 2',
      'peft:',
      '  peft_type: LORA',
      '  r: 2',
      '  lora_alpha: 4',
      '  target_modules: [c_attn, c_proj]',
      '  use_rslora: true',
      '  lora_dropout: 0.0',
    ].join('\n'),
  );
  const r = runCli('train', '--config', join(dir, 'train.yaml'), '--json');
  assert.equal(r.code, 0, r.stderr);
  // max_steps overrides epochs: one epoch of 18 examples at 3 x 2 per step is 3 steps.
  assert.equal(JSON.parse(r.stdout).steps, 4);
  const config = adapterConfig(out);
  assert.deepEqual([config.r, config.lora_alpha, [...config.target_modules].sort(), config.use_rslora, config.lora_dropout, config.peft_version], [2, 4, ['c_attn', 'c_proj'], true, 0, '0.21.0']);
  assert.ok(adapterKeys(out).some((k) => k.includes('.attn.c_proj.lora_A')) && adapterKeys(out).some((k) => k.includes('.mlp.c_proj.lora_A')));
  const log = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const losses = log.filter((e) => 'loss' in e);
  assert.deepEqual(
    losses.map((e) => e.step),
    [2, 4],
    'logging_steps: 2',
  );
  // warmup_ratio 0.5 of 4 steps: the rate rises over 2 steps, so step 2 runs at half the peak.
  assert.ok(Math.abs(losses[0].learning_rate - 0.005) < 1e-12, String(losses[0].learning_rate));
  assert.deepEqual(
    log.filter((e) => 'eval_loss' in e).map((e) => e.step),
    [2, 4],
    'eval_steps: 2',
  );
  assert.ok(existsSync(join(out, 'checkpoint-2')), 'save_steps: 2');
});

test('a YAML list of target_modules adapts every module named, not only the first', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 't.yaml'), `model: ${gpt2WithWordTokenizer()}\ndata: ${data(dir)}\nout: ${join(dir, 'a')}\nmax_steps: 1\ntarget_modules: [c_attn, c_proj]\n`);
  const r = runCli('train', '--config', join(dir, 't.yaml'));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual([...adapterConfig(join(dir, 'a')).target_modules].sort(), ['c_attn', 'c_proj']);
  assert.ok(adapterKeys(join(dir, 'a')).some((k) => k.includes('c_proj.lora_B')));
});

test('settings are never silently ignored: yes for a boolean, a list for a number, a typo in peft: are errors naming the key', () => {
  const dir = tempDir();
  const base = `model: ${gpt2WithWordTokenizer()}\ndata: ${data(dir)}\nout: ${join(dir, 'a')}\n`;
  const run = (yaml: string) => {
    writeFileSync(join(dir, 'c.yaml'), base + yaml);
    return runCli('train', '--config', join(dir, 'c.yaml'));
  };
  const dora = run('use_dora: yes\n');
  assert.equal(dora.code, 2);
  assert.match(dora.stderr, /use_dora must be true or false, got "yes"/);
  const doraInBlock = run('peft:\n  use_dora: yes\n');
  assert.equal(doraInBlock.code, 2);
  assert.match(doraInBlock.stderr, /use_dora must be true or false, got "yes"/);
  const epochs = run('epochs: [3, 4]\n');
  assert.equal(epochs.code, 2);
  assert.match(epochs.stderr, /epochs must be a number >= 0, got \[3,4\]/);
  const typo = run('peft:\n  lora_alhpa: 16\n');
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown config field 'lora_alhpa'\. Did you mean 'lora_alpha'\?/);
  const scheduler = run('lr_scheduler_type: cosine_annealing\n');
  assert.equal(scheduler.code, 2);
  assert.match(scheduler.stderr, /lr_scheduler_type 'cosine_annealing' is not accepted.*Accepted: linear, cosine, constant, constant_with_warmup/);
  const twice = run('lr: 0.1\nlearning_rate: 0.2\n');
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /set the same thing/);
  assert.ok(!existsSync(join(dir, 'a')), 'nothing written');
});

test('--max-steps runs that many steps even when the epochs would stop earlier (as in transformers)', () => {
  const dir = tempDir();
  const r = runCli(
    'train',
    '--model',
    gpt2WithWordTokenizer(),
    '--data',
    data(dir),
    '--out',
    join(dir, 'a'),
    '--epochs',
    '1',
    '--batch-size',
    '8',
    '--max-steps',
    '12',
    '--validation-fraction',
    '0',
    '--json',
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).steps, 12);
});

test('a data file starting with a byte-order mark reads its first field by name', () => {
  const dir = tempDir();
  const r = runCli('train', '--model', gpt2WithWordTokenizer(), '--data', data(dir, 'bom.jsonl', '\ufeff'), '--out', join(dir, 'a'), '--max-steps', '1', '--json');
  assert.equal(r.code, 0, r.stderr);
});

test('adapter name, rank/alpha patterns, bias and modules_to_save are set from the command line', () => {
  const dir = tempDir();
  const out = join(dir, 'out');
  const r = runCli(
    'train',
    '--model',
    gpt2WithWordTokenizer(),
    '--data',
    data(dir),
    '--out',
    out,
    '--max-steps',
    '1',
    '--adapter-name',
    'spam',
    '--target-modules',
    'c_attn,c_fc',
    '--rank-pattern',
    'c_fc=2',
    '--alpha-pattern',
    'c_fc=3',
    '--bias',
    'lora_only',
    '--modules-to-save',
    'ln_f',
    '--json',
  );
  assert.equal(r.code, 0, r.stderr);
  const saved = join(out, 'spam');
  assert.equal(JSON.parse(r.stdout).adapter, saved);
  const config = adapterConfig(saved);
  assert.deepEqual([config.rank_pattern, config.alpha_pattern, config.bias, config.modules_to_save], [{ c_fc: 2 }, { c_fc: 3 }, 'lora_only', ['ln_f']]);
  const header = readHeader(join(saved, 'adapter_model.safetensors')).tensors;
  assert.deepEqual(header.get('base_model.model.transformer.h.0.mlp.c_fc.lora_A.weight')!.shape, [2, 64]);
  assert.deepEqual(header.get('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight')!.shape, [8, 64]);
  assert.ok(header.has('base_model.model.transformer.h.0.attn.c_attn.base_layer.bias') || header.has('base_model.model.transformer.h.0.attn.c_attn.bias'));
  assert.ok(header.has('base_model.model.transformer.ln_f.weight'));
});

// The peft: block reaches any registered method, not only LoRA: what the file says is what is saved.
for (const [label, block, expected] of [
  [
    'IA3',
    ['  peft_type: IA3', '  target_modules: [c_attn, mlp.c_proj]', '  feedforward_modules: [mlp.c_proj]'],
    { peft_type: 'IA3', target_modules: ['c_attn', 'mlp.c_proj'], feedforward_modules: ['mlp.c_proj'] },
  ],
  ['prompt tuning', ['  peft_type: PROMPT_TUNING', '  num_virtual_tokens: 4', '  prompt_tuning_init: RANDOM'], { peft_type: 'PROMPT_TUNING', num_virtual_tokens: 4, prompt_tuning_init: 'RANDOM' }],
] as const) {
  test(`a config file's peft: block trains ${label} as it says (checked in the saved adapter_config.json)`, () => {
    const dir = tempDir();
    const out = join(dir, 'adapter');
    writeFileSync(
      join(dir, 'train.yaml'),
      [`model: ${gpt2WithWordTokenizer()}`, `data: ${data(dir)}`, `output_dir: ${out}`, 'learning_rate: 0.01', 'max_steps: 2', 'per_device_train_batch_size: 4', 'peft:', ...block].join('\n'),
    );
    const r = runCli('train', '--config', join(dir, 'train.yaml'), '--json');
    assert.equal(r.code, 0, r.stderr);
    const config = adapterConfig(out);
    for (const [key, value] of Object.entries(expected)) assert.deepEqual(config[key], value, key);
    assert.ok(adapterKeys(out).length > 0);
  });
}
