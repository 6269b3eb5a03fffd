import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { cliPath, runCli, tempDir } from '../cli.js';
import { repoRoot } from '../helpers.js';

const model = join(repoRoot, 'models', 'default');
const SMALL = ['--model', model, '--tasks', 'spam', '--seeds', '1', '--train-sizes', '8', '--epochs', '1', '--eval-limit', '8', '--heldout-docs', '1'];

test('peft-ts compare trains and scores every job, writes the leaderboard, and a second run skips every finished job', () => {
  const out = tempDir('compare');
  const first = runCli('compare', ...SMALL, '--methods', 'lora,icl', '--out', out, '--workers', '1', '--json');
  assert.equal(first.code, 0, first.stderr);
  const results = JSON.parse(first.stdout);
  assert.equal(results.schema, 'peft-ts.compare/1');
  const spam = results.tasks[0];
  assert.equal(spam.items, 8);
  assert.deepEqual(spam.rows.map((r: { method: string }) => r.method).sort(), ['icl', 'lora']);
  assert.match(first.stderr, /3 jobs: 0 already done, 3 to run/);
  assert.equal(readdirSync(join(out, 'jobs')).length, 3);
  assert.ok(existsSync(join(out, 'report', 'index.html')) && existsSync(join(out, 'report', 'results.json')));
  const again = runCli('compare', ...SMALL, '--methods', 'lora,icl', '--out', out, '--workers', '1');
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /3 jobs: 3 already done, 0 to run/);
  const bad = runCli('compare', ...SMALL, '--methods', 'lroa', '--out', out);
  assert.match(bad.stderr, /no method named 'lroa'.*Did you mean 'lora'/);
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

const redisServer = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();

test('compare over a Redis queue: two workers, one killed mid-job; every result arrives once; a re-run skips them all', {
  skip: redisServer ? false : 'redis-server is not installed (apt-get install redis-server; .ci/run installs it)',
  timeout: 600_000,
}, async () => {
  const port = await freePort();
  const redis = spawn(redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const workers: ReturnType<typeof spawn>[] = [];
  try {
    await new Promise((r) => setTimeout(r, 500));
    const startWorker = () => {
      const w = spawn(process.execPath, [cliPath, 'worker', '--queue', url, '--lock-seconds', '2', '--threads', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let log = '';
      w.stderr!.on('data', (d: Buffer) => {
        log += d;
      });
      workers.push(w);
      return { w, log: () => log };
    };
    const victim = startWorker();
    const out = tempDir('queue');
    const compare = spawn(process.execPath, [cliPath, 'compare', ...SMALL, '--seeds', '2', '--methods', 'lora', '--out', out, '--queue', url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let compareLog = '';
    compare.stderr!.on('data', (d: Buffer) => {
      compareLog += d;
    });
    // Kill the first worker once it has taken a job (it runs the job in a child process, which notices and stops too).
    for (let waited = 0; !/job [0-9a-f]+:/.test(victim.log()); waited += 100) {
      assert.ok(victim.w.exitCode === null && waited < 300_000, `the first worker never took a job: ${victim.log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    victim.w.kill('SIGKILL');
    startWorker();
    startWorker();
    const code = await new Promise<number | null>((resolve) => compare.on('close', resolve));
    assert.equal(code, 0, compareLog);
    const reported = compareLog.split('\n').filter((l) => /^\[\d+\/3\] /.test(l));
    assert.equal(reported.length, 3, compareLog);
    assert.ok(!/FAILED/.test(compareLog), compareLog);
    const keys = readdirSync(join(out, 'jobs'));
    assert.equal(keys.length, 3);
    for (const k of keys) assert.equal(JSON.parse(readFileSync(join(out, 'jobs', k), 'utf8')).key, k.replace(/\.json$/, ''));
    const again = runCli('compare', ...SMALL, '--seeds', '2', '--methods', 'lora', '--out', out, '--queue', url);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /3 jobs: 3 already done, 0 to run/);
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    redis.kill('SIGTERM');
  }
});
