import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir, repoRoot } from '../helpers.js';
import { cliPath, gpt2WithWordTokenizer, runCli, tempDir } from '../cli.js';

/** A two-choice task file over `items` word-tokenizer items (label = i % 2) in `dir`: task.json beside items.jsonl. */
function writeParityTask(dir: string, items: number): void {
  writeFileSync(join(dir, 'items.jsonl'), Array.from({ length: items }, (_, i) => JSON.stringify({ q: `w${i} w${i + 3}`, label: i % 2 })).join('\n'));
  writeFileSync(
    join(dir, 'task.json'),
    JSON.stringify({ task: 'parity', output_type: 'multiple_choice', dataset: 'items.jsonl', doc_to_text: '{q}', doc_to_choice: ['w10', 'w20'], doc_to_target: '{label}' }),
  );
}

/** Training records for the parity task (completion w10 or w20), as train.jsonl in `dir`; returns its path. */
function writeParityTrainingData(dir: string, records: number): string {
  const path = join(dir, 'train.jsonl');
  writeFileSync(path, Array.from({ length: records }, (_, i) => JSON.stringify({ prompt: `w${i} w${i + 3}`, completion: ` w${10 + 10 * (i % 2)}` })).join('\n'));
  return path;
}

test('peft-ts eval scores base and adapter on the same items and writes the report', () => {
  const dir = tempDir();
  writeParityTask(dir, 30);
  const r = runCli('eval', '--model', gpt2WithWordTokenizer(), '--adapter', join(fixturesDir, 'gpt2-tiny-lora'), '--tasks', join(dir, 'task.json'), '--report', join(dir, 'report'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.deepEqual(result.variants, ['base', 'gpt2-tiny-lora']);
  const acc = result.tasks[0].metrics.acc;
  assert.equal(acc.values.base.n, 30);
  assert.ok(Math.abs(acc.deltas['gpt2-tiny-lora'].mean - (acc.values['gpt2-tiny-lora'].mean - acc.values.base.mean)) < 1e-12);
  assert.ok('mcnemarP' in acc.deltas['gpt2-tiny-lora'] && 'acc_norm' in result.tasks[0].metrics && 'ece' in result.tasks[0].metrics);
  const items = readFileSync(join(dir, 'report', 'items.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(items.length, 30, "one line per item, every model's answer in it");
  assert.deepEqual([items[3].prompt, items[3].target, items[3].choices], ['w3 w6', ' w20', [' w10', ' w20']]);
  for (const v of ['base', 'gpt2-tiny-lora']) assert.ok([' w10', ' w20'].includes(items[3].models[v].prediction) && items[3].models[v].probs.length === 2, v);
  // A report folder that holds work is not replaced without --overwrite, and nothing in it changes.
  const before = readFileSync(join(dir, 'report', 'items.jsonl'), 'utf8');
  const again = runCli('eval', '--model', gpt2WithWordTokenizer(), '--tasks', join(dir, 'task.json'), '--report', join(dir, 'report'));
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, /--report .* is not empty.*--overwrite/);
  assert.equal(readFileSync(join(dir, 'report', 'items.jsonl'), 'utf8'), before);
  assert.equal(runCli('eval', '--model', gpt2WithWordTokenizer(), '--tasks', join(dir, 'task.json'), '--report', join(dir, 'report'), '--overwrite').code, 0);
  assert.ok(existsSync(join(dir, 'report', 'index.html')) && existsSync(join(dir, 'report', 'results.json')));
  // A progress bar per task and model, ending at the item count.
  assert.match(r.stderr, /parity base 30\/30 \[=+\]/);
  assert.match(r.stderr, /parity gpt2-tiny-lora 30\/30 \[=+\]/);
});

test("train then eval --report: the report's run header reads the adapter's method, steps, data, seed and loss curve", () => {
  const dir = tempDir();
  const model = gpt2WithWordTokenizer();
  const data = writeParityTrainingData(dir, 24);
  const trained = runCli(
    'train',
    '--model',
    model,
    '--data',
    data,
    '--out',
    join(dir, 'adapter'),
    '--epochs',
    '2',
    '--batch-size',
    '4',
    '--validation-fraction',
    '0',
    '--seed',
    '4',
    '--r',
    '4',
    '--json',
  );
  assert.equal(trained.code, 0, trained.stderr);
  const steps = JSON.parse(trained.stdout).steps as number;
  writeParityTask(dir, 10);
  const r = runCli('eval', '--model', model, '--adapter', join(dir, 'adapter'), '--tasks', join(dir, 'task.json'), '--report', join(dir, 'report'), '--seed', '2');
  assert.equal(r.code, 0, r.stderr);
  const { run } = JSON.parse(readFileSync(join(dir, 'report', 'results.json'), 'utf8'));
  assert.equal(run.adapters.length, 1);
  const a = run.adapters[0];
  assert.deepEqual([a.config.peft_type, a.config.r, a.steps, a.loss.length, a.training.data, a.training.seed], ['LORA', 4, steps, steps, data, 4]);
  assert.deepEqual([run.seed, run.tasks, run.modelType], [2, ['parity'], 'gpt2']);
  assert.equal(run.peftTsVersion, JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
  assert.ok(Math.abs(Date.parse(run.date) - Date.now()) < 600_000);
  const html = readFileSync(join(dir, 'report', 'index.html'), 'utf8');
  assert.ok(html.includes('id="loss"') && html.includes(`${steps} steps`));
});

test('Ctrl-C during peft-ts train writes a checkpoint that --resume continues', async () => {
  const dir = tempDir();
  const data = join(dir, 'd.jsonl');
  writeFileSync(data, Array.from({ length: 400 }, (_, i) => JSON.stringify({ prompt: `w${i % 900} w${(i * 7) % 900}`, completion: ` w${i % 13}` })).join('\n'));
  const m = gpt2WithWordTokenizer();
  const out = join(dir, 'out');
  // Long enough that it is still training when the signal lands; the signal is sent once the
  // run announces itself (the progress bar prints only every few seconds when not on a terminal).
  const child = spawn(process.execPath, [cliPath, 'train', '--model', m, '--data', data, '--out', out, '--epochs', '500', '--batch-size', '2', '--validation-fraction', '0']);
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (/training [\d,]+ of/.test(stderr) && !child.killed) child.kill('SIGINT');
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, stderr);
  const checkpoints = readdirSync(out).filter((f) => f.startsWith('checkpoint-'));
  assert.equal(checkpoints.length, 1, `checkpoints: ${checkpoints.join(', ')}; ${stderr}`);
  const resumed = runCli(
    'train',
    '--model',
    m,
    '--data',
    data,
    '--out',
    out,
    '--epochs',
    '500',
    '--batch-size',
    '2',
    '--validation-fraction',
    '0',
    '--max-steps',
    String(Number(checkpoints[0].split('-')[1]) + 2),
    '--resume',
    join(out, checkpoints[0]),
    '--json',
  );
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(JSON.parse(resumed.stdout).steps, Number(checkpoints[0].split('-')[1]) + 2);
});

test('peft-ts eval with LoRA, IA3 and PiSSA adapters on the same layers: each is scored alone against the model as loaded', () => {
  const dir = tempDir();
  const model = gpt2WithWordTokenizer();
  writeParityTask(dir, 12);
  const data = writeParityTrainingData(dir, 8);
  const pissa = join(dir, 'pissa');
  const trained = runCli(
    'train',
    '--model',
    model,
    '--data',
    data,
    '--out',
    pissa,
    '--init-lora-weights',
    'pissa',
    '--r',
    '2',
    '--lr',
    '0.05',
    '--max-steps',
    '3',
    '--batch-size',
    '4',
    '--validation-fraction',
    '0',
  );
  assert.equal(trained.code, 0, trained.stderr);
  const adapters = [join(fixturesDir, 'gpt2-tiny-lora'), join(fixturesDir, 'peft-zoo', 'gpt2-tiny-ia3'), pissa];
  const scores = (...paths: string[]) => {
    const r = runCli('eval', '--model', model, ...paths.flatMap((p) => ['--adapter', p]), '--tasks', join(dir, 'task.json'), '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout).tasks[0].metrics.brier.values as Record<string, { mean: number }>;
  };
  const together = scores(...adapters);
  // The model as loaded, not the PiSSA residual (up to the rounding of W_res + s B0 A0 after a PiSSA adapter is unloaded).
  assert.ok(Math.abs(together.base.mean - scores().base.mean) < 1e-6, `base ${together.base.mean} vs ${scores().base.mean}`);
  adapters.forEach((path, i) => {
    const alone = Object.entries(scores(path)).find(([name]) => name !== 'base')![1];
    const name = Object.keys(together).find((n) => n.endsWith(`_${i}`))!;
    assert.ok(Math.abs(together[name].mean - alone.mean) < 1e-6, `${name}: ${together[name].mean} vs alone ${alone.mean}`);
  });
  assert.notEqual(Object.entries(together).find(([n]) => n.endsWith('_2'))![1].mean, together.base.mean, 'the PiSSA adapter changed the model');
});
