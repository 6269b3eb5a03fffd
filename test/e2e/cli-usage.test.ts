import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evalCommand } from '../../src/cli/commands/eval.js';
import { forwardCommand } from '../../src/cli/commands/forward.js';
import { generateCommand } from '../../src/cli/commands/generate.js';
import { infoCommand } from '../../src/cli/commands/info.js';
import { mergeCommand } from '../../src/cli/commands/merge.js';
import { scoreCommand } from '../../src/cli/commands/score.js';
import { trainCommand } from '../../src/cli/commands/train.js';
import type { CommandSpec, FlagSpec } from '../../src/cli/command.js';
import { gpt2WithWordTokenizer, runCli, tempDir } from '../cli.js';
import { fixturesDir, repoRoot } from '../helpers.js';

const COMMANDS: CommandSpec<any>[] = [trainCommand, evalCommand, infoCommand, generateCommand, forwardCommand, scoreCommand, mergeCommand];

test('every command has --help listing each flag of its table, with its default, exit 0', () => {
  for (const command of COMMANDS) {
    const r = runCli(command.name, '--help');
    assert.equal(r.code, 0, `${command.name}: ${r.stderr}`);
    const help = r.stdout.replace(/\s+/g, ' ');
    for (const [flag, spec] of Object.entries(command.flags as Record<string, FlagSpec>)) {
      const shown = spec.type === 'boolean' && spec.default === true ? `--no-${flag}` : `--${flag}`;
      assert.ok(new RegExp(`${shown}[ <]`).test(help), `${command.name} --help lacks ${shown}`);
      if (spec.default !== undefined) {
        const after = help.slice(help.indexOf(shown));
        assert.match(after, /\(default: /, `${command.name} --help shows no default for ${shown}`);
      }
    }
  }
  assert.match(runCli('train', '--help').stdout.replace(/\s+/g, ' '), /--lr <N> peak learning rate \(config file also: learning_rate\) \(default: 0\.0002\)/);
});

test('--version prints the package version; a misspelt command or flag gets a suggestion and exit 2', () => {
  const version = runCli('--version');
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
  const command = runCli('tran');
  assert.equal(command.code, 2);
  assert.match(command.stderr, /Did you mean train\?/);
  const flag = runCli('train', '--adpter-name', 'x');
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /Did you mean --adapter-name\?/);
});

test('usage errors exit 2 and name the flag and the accepted values; runtime errors exit 1', () => {
  const m = gpt2WithWordTokenizer();
  const optimizer = runCli('train', '--model', m, '--data', 'x.jsonl', '--out', tempDir(), '--optimizer', 'bogus');
  assert.equal(optimizer.code, 2);
  assert.match(optimizer.stderr, /--optimizer 'bogus' is not accepted.*Accepted: adamw, adamw_torch, sgd\./);
  const number = runCli('train', '--model', m, '--data', 'x.jsonl', '--out', tempDir(), '--epochs', 'three');
  assert.equal(number.code, 2);
  assert.match(number.stderr, /--epochs must be a number >= 0, got "three"/);
  const task = runCli('train', '--model', m, '--task', 'spm', '--out', tempDir());
  assert.equal(task.code, 2);
  assert.match(task.stderr, /--task 'spm' is not accepted\. Did you mean 'spam'\?/);
  const nothing = runCli('train', '--model', m, '--data', 'x.jsonl', '--out', tempDir(), '--epochs', '0');
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /--epochs 0 trains nothing.*--max-steps/);
  const missing = runCli('train', '--data', 'x.jsonl', '--out', tempDir());
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--model is required/);
  const runtime = runCli('info', '--model', tempDir());
  assert.equal(runtime.code, 1);
  assert.match(runtime.stderr, /config\.json not found/);
});

test('info takes --model like every command; the old positional still works with a deprecation note', () => {
  const flag = runCli('info', '--model', join(fixturesDir, 'llama-tiny'), '--json');
  assert.equal(flag.code, 0, flag.stderr);
  assert.equal(JSON.parse(flag.stdout).model_type, 'llama');
  const positional = runCli('info', join(fixturesDir, 'llama-tiny'), '--json');
  assert.equal(positional.code, 0, positional.stderr);
  assert.deepEqual(JSON.parse(positional.stdout), JSON.parse(flag.stdout));
  assert.match(positional.stderr, /deprecated; write 'peft-ts info --model PATH'/);
});
