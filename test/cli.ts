import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturesDir, repoRoot } from './helpers.js';

/** The compiled CLI entry point. */
export const cliPath = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

/** Runs `peft-ts ...args` to completion. */
export function runCli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export const tempDir = (label = 'cli') => mkdtempSync(join(tmpdir(), `peft-ts-${label}-`));

/** A fixture model with a word-level tokenizer over its ids ("w0" ... ; eos the last id), so text commands can run. */
export function withWordTokenizer(base: string): string {
  const dir = tempDir('model');
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(fixturesDir, base, f), join(dir, f));
  const size = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).vocab_size as number;
  const vocab = Object.fromEntries(Array.from({ length: size }, (_, i) => [`w${i}`, i]));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({
    version: '1.0', added_tokens: [], normalizer: null, pre_tokenizer: { type: 'WhitespaceSplit' }, post_processor: null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: false }, model: { type: 'WordLevel', vocab, unk_token: 'w0' },
  }));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: `w${size - 1}` }));
  return dir;
}

/** gpt2-tiny (1000 ids) with a word-level tokenizer. */
export const gpt2WithWordTokenizer = () => withWordTokenizer('gpt2-tiny');
