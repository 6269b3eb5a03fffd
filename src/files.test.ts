import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from './errors.js';
import { readTextFile } from './files.js';

const fail = (problem: string) => new ConfigError(`[test] ${problem}.`);

// Issue 12: a FIFO in place of model.safetensors blocked forever; a directory gave EISDIR stack traces.
test('a FIFO, a directory or a missing path where a file is expected is a clear error, never a hang', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-ts-files-'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  mkdirSync(join(dir, 'folder'));
  writeFileSync(join(dir, 'file.json'), '{"ok": true}');
  assert.throws(() => readTextFile(join(dir, 'fifo'), fail), /is a pipe \(FIFO\), not a file/);
  assert.throws(() => readTextFile(join(dir, 'folder'), fail), /is a directory, not a file/);
  assert.throws(() => readTextFile(join(dir, 'missing'), fail), /does not exist/);
  assert.equal(readTextFile(join(dir, 'file.json'), fail), '{"ok": true}');
});
