import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir } from '../helpers.js';
import { cliPath, gpt2WithWordTokenizer, runCli, tempDir } from '../cli.js';



test('peft-ts eval scores base and adapter on the same items and writes the report', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'items.jsonl'), Array.from({ length: 30 }, (_, i) => JSON.stringify({ q: `w${i} w${i + 3}`, label: i % 2 })).join('\n'));
  writeFileSync(join(dir, 'task.json'), JSON.stringify({ task: 'parity', output_type: 'multiple_choice', dataset: 'items.jsonl', doc_to_text: '{q}', doc_to_choice: ['w10', 'w20'], doc_to_target: '{label}' }));
  const r = runCli('eval', '--model', gpt2WithWordTokenizer(), '--adapter', join(fixturesDir, 'gpt2-tiny-lora'), '--tasks', join(dir, 'task.json'), '--report', join(dir, 'report'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.deepEqual(result.variants, ['base', 'gpt2-tiny-lora']);
  const acc = result.tasks[0].metrics.acc;
  assert.equal(acc.values.base.n, 30);
  assert.ok(Math.abs(acc.deltas['gpt2-tiny-lora'].mean - (acc.values['gpt2-tiny-lora'].mean - acc.values.base.mean)) < 1e-12);
  assert.ok('mcnemarP' in acc.deltas['gpt2-tiny-lora'] && 'acc_norm' in result.tasks[0].metrics && 'ece' in result.tasks[0].metrics);
  const items = readFileSync(join(dir, 'report', 'items.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(items.length, 60);
  assert.ok(existsSync(join(dir, 'report', 'index.html')) && existsSync(join(dir, 'report', 'results.json')));
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
  const resumed = runCli('train', '--model', m, '--data', data, '--out', out, '--epochs', '500', '--batch-size', '2', '--validation-fraction', '0', '--max-steps', String(Number(checkpoints[0].split('-')[1]) + 2), '--resume', join(out, checkpoints[0]), '--json');
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(JSON.parse(resumed.stdout).steps, Number(checkpoints[0].split('-')[1]) + 2);
});
