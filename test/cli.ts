import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
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

/** A word-level tokenizer.json over ids 0..999 ("w0" ... "w999"; unknown words are w0). */
export function wordTokenizerJson(): Record<string, unknown> {
  const vocab = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`w${i}`, i]));
  return {
    version: '1.0', added_tokens: [], normalizer: null, pre_tokenizer: { type: 'WhitespaceSplit' }, post_processor: null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: false }, model: { type: 'WordLevel', vocab, unk_token: 'w0' },
  };
}

/** gpt2-tiny with a word-level tokenizer over its 1000 ids ("w0" ... "w999", eos "w999"), so text commands can run. */
export function gpt2WithWordTokenizer(): string {
  const dir = tempDir('model');
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(fixturesDir, 'gpt2-tiny', f), join(dir, f));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(wordTokenizerJson()));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: 'w999' }));
  return dir;
}
