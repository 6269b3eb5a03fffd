import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir } from '../helpers.js';
import { cliPath, gpt2WithWordTokenizer, runCli, tempDir } from '../cli.js';

// Issue 12 at the CLI: every failure is one line on stderr with a non-zero exit code (2 for
// usage), nothing the user did not ask to replace is overwritten, and nothing hangs.

function assertOneLineFailure(r: { code: number | null; stderr: string }, code: number, pattern: RegExp, what: string): void {
  assert.equal(r.code, code, `${what}: exit ${r.code}, stderr ${r.stderr}`);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `${what}: more than one line: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: stack trace`);
  assert.match(r.stderr, pattern, what);
}

function trainData(): string {
  const path = join(tempDir(), 'train.jsonl');
  writeFileSync(path, Array.from({ length: 8 }, (_, i) => JSON.stringify({ prompt: `w${i} w${i + 1}`, completion: ` w${i + 2}` })).join('\n'));
  return path;
}

test('train --out into a non-empty folder is refused unless --overwrite (it replaced the adapter and truncated metrics.jsonl)', () => {
  const model = gpt2WithWordTokenizer(),
    data = trainData();
  const out = tempDir('out');
  writeFileSync(join(out, 'metrics.jsonl'), '{"step":1,"loss":1}\n');
  const args = ['train', '--model', model, '--data', data, '--out', out, '--max-steps', '1', '--batch-size', '4', '--validation-fraction', '0'];
  assertOneLineFailure(runCli(...args), 1, /--out .* is not empty \(metrics\.jsonl\)\. Choose a new folder, or pass --overwrite/, 'non-empty --out');
  assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8'), '{"step":1,"loss":1}\n', 'nothing was touched');
  const file = join(tempDir(), 'a-file');
  writeFileSync(file, 'x');
  assertOneLineFailure(runCli(...args.slice(0, 6), file, ...args.slice(7)), 1, /is a file, not a folder/, '--out onto a file');
  const r = runCli(...args, '--overwrite');
  assert.equal(r.code, 0, r.stderr);
});

test('merge --out refuses a file or a non-empty folder (an adapter folder was overwritten) unless --overwrite', () => {
  const adapter = join(fixturesDir, 'gpt2-tiny-lora'),
    model = join(fixturesDir, 'gpt2-tiny');
  const file = join(tempDir(), 'merged.safetensors');
  writeFileSync(file, 'x');
  assertOneLineFailure(runCli('merge', '--model', model, '--adapter', adapter, '--out', file), 1, /--out .* is a file, not a folder/, 'merge onto a file');
  assertOneLineFailure(runCli('merge', '--model', model, '--adapter', adapter, '--out', adapter), 1, /--out .* is not empty/, 'merge into the adapter folder');
  const out = tempDir('merged');
  writeFileSync(join(out, 'config.json'), '{}');
  assertOneLineFailure(runCli('merge', '--model', model, '--adapter', adapter, '--out', out), 1, /is not empty \(config\.json\)/, 'merge into a used folder');
  assert.equal(runCli('merge', '--model', model, '--adapter', adapter, '--out', out, '--overwrite').code, 0);
});

test('broken model folders fail in one line: FIFO or directory in place of a file, weight_map of the wrong type, tokenizer.json of {} or null', () => {
  const model = () => {
    const dir = tempDir('model');
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(fixturesDir, 'gpt2-tiny', f), join(dir, f));
    return dir;
  };
  const fifo = model();
  rmSync(join(fifo, 'model.safetensors'));
  execFileSync('mkfifo', [join(fifo, 'model.safetensors')]);
  const started = Date.now();
  const r = spawnSync(process.execPath, [cliPath, 'info', '--model', fifo], { encoding: 'utf8', timeout: 30000 });
  assertOneLineFailure({ code: r.status, stderr: r.stderr }, 1, /model\.safetensors is a pipe \(FIFO\), not a file/, 'FIFO (was a hang)');
  assert.ok(Date.now() - started < 30000);
  const folder = model();
  rmSync(join(folder, 'config.json'));
  mkdirSync(join(folder, 'config.json'));
  assertOneLineFailure(runCli('info', '--model', folder), 1, /config\.json is a directory, not a file/, 'directory for config.json');
  const sharded = model();
  writeFileSync(join(sharded, 'model.safetensors.index.json'), JSON.stringify({ weight_map: 42 }));
  assertOneLineFailure(runCli('info', '--model', sharded), 1, /no weight_map object/, 'weight_map 42');
  for (const json of ['{}', 'null', '{"model": {"type": "Bogus"}}']) {
    const dir = model();
    writeFileSync(join(dir, 'tokenizer.json'), json);
    assertOneLineFailure(runCli('score', '--model', dir, '--text', 'hello'), 1, /\[tokenizer\]/, `tokenizer.json ${json}`);
  }
  const badConfig = model();
  writeFileSync(join(badConfig, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(fixturesDir, 'gpt2-tiny', 'config.json'), 'utf8')), n_positions: 1e9 }));
  assertOneLineFailure(runCli('info', '--model', badConfig), 1, /'n_positions' must be a positive integer/, 'n_positions 1e9');
});

test('input ids outside the vocabulary or beyond int32 are errors, not other tokens; so is a mask of other values than 0/1', () => {
  for (const [inputs, pattern] of [
    [{ input_ids: [[1, 1000]] }, /outside the vocabulary/],
    [{ input_ids: [[1, 2 ** 32 + 5]] }, /not an int32/],
    [{ input_ids: [[1, -1]] }, /outside the vocabulary/],
    [{ input_ids: [[1, 2]], attention_mask: [[5, -3]] }, /'attention_mask' must hold only 0 \(padding\) and 1/],
  ] as const) {
    const input = join(tempDir(), 'ids.json');
    writeFileSync(input, JSON.stringify(inputs));
    assertOneLineFailure(runCli('forward', '--model', join(fixturesDir, 'gpt2-tiny'), '--inputs', input, '--out', join(tempDir(), 'logits.safetensors')), 1, pattern, JSON.stringify(inputs));
  }
});

test('usage errors exit 2 in one line; PEFT_TS_DEBUG=1 adds the stack trace', () => {
  assertOneLineFailure(runCli('info', '--bogus'), 2, /\[cli\]/, 'unknown flag');
  assertOneLineFailure(runCli('merge', '--model', 'x'), 2, /--adapter|--out/, 'missing flags');
  const debug = spawnSync(process.execPath, [cliPath, 'info', join(tempDir(), 'missing')], { encoding: 'utf8', env: { ...process.env, PEFT_TS_DEBUG: '1' } });
  assert.equal(debug.status, 1);
  assert.match(debug.stderr, /\n\s+at /);
});

test('output piped into a reader that quits early (| head) ends quietly, not with an EPIPE stack trace', async () => {
  const child = spawn(process.execPath, [cliPath, 'info', join(fixturesDir, 'gpt2-tiny'), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the reader is gone before the first write
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|\n\s+at /);
});
