import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cachedModelDir, hubCacheDir } from '../../src/io/index.js';
import { generate, loadPretrained, type CausalLM } from '../../src/models/index.js';
import { gpt2WithWordTokenizer, runCli, runCliWithEnv, tempDir } from '../cli.js';
import { fixturesDir } from '../helpers.js';

const COMMIT = 'a'.repeat(40),
  OTHER = 'b'.repeat(40);

/** A hub cache as huggingface_hub lays it out: models--org--name/{refs/main, snapshots/<commit>/...}. */
function hubCache(): string {
  const cache = tempDir('hub');
  const repo = join(cache, 'models--tiny-org--gpt2-words');
  mkdirSync(join(repo, 'refs'), { recursive: true });
  writeFileSync(join(repo, 'refs', 'main'), COMMIT);
  writeFileSync(join(repo, 'refs', 'v2'), OTHER);
  cpSync(gpt2WithWordTokenizer(), join(repo, 'snapshots', COMMIT), { recursive: true });
  cpSync(join(fixturesDir, 'llama-tiny'), join(repo, 'snapshots', OTHER), { recursive: true });
  return cache;
}

test('--model org/name resolves the hub cache offline (HF_HUB_CACHE, HF_HOME, refs/<revision>)', () => {
  const cache = hubCache();
  const offline = { HF_HUB_OFFLINE: '1' };
  const main = runCliWithEnv({ ...offline, HF_HUB_CACHE: cache }, 'info', '--model', 'tiny-org/gpt2-words', '--json');
  assert.equal(main.code, 0, main.stderr);
  assert.equal(JSON.parse(main.stdout).model_type, 'gpt2');
  const tag = runCliWithEnv({ ...offline, HF_HUB_CACHE: cache }, 'info', '--model', 'tiny-org/gpt2-words', '--revision', 'v2', '--json');
  assert.equal(JSON.parse(tag.stdout).model_type, 'llama');
  const home = tempDir('hf-home');
  cpSync(cache, join(home, 'hub'), { recursive: true });
  const viaHome = runCliWithEnv({ ...offline, HF_HOME: home, HF_HUB_CACHE: '' }, 'generate', '--model', 'tiny-org/gpt2-words', '--prompt', 'w1 w2', '--max-new-tokens', '2', '--json');
  assert.equal(viaHome.code, 0, viaHome.stderr);
  assert.equal(hubCacheDir({ HF_HOME: home }), join(home, 'hub'));
  assert.equal(cachedModelDir('tiny-org/gpt2-words', 'main', cache), join(cache, 'models--tiny-org--gpt2-words', 'snapshots', COMMIT));
  assert.equal(cachedModelDir('tiny-org/gpt2-words', OTHER, cache), join(cache, 'models--tiny-org--gpt2-words', 'snapshots', OTHER));
  const absent = runCliWithEnv({ ...offline, HF_HUB_CACHE: cache }, 'info', '--model', 'tiny-org/absent');
  assert.equal(absent.code, 1);
  assert.match(absent.stderr, /tiny-org\/absent \(revision main\) is not in the hub cache .* HF_HUB_OFFLINE is set/);
});

test("generation_config.json supplies generate's defaults (max_new_tokens, eos)", () => {
  const dir = gpt2WithWordTokenizer();
  const model = loadPretrained(dir).model as CausalLM;
  const free = generate(model, [[5, 17, 300]], { maxNewTokens: 6, eosTokenId: 1000 })[0];
  // eos = the third token greedy decoding produces: generation must stop there, after 3 tokens, not run to 6.
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ max_new_tokens: 6, eos_token_id: free[2], do_sample: false }));
  const r = runCli('generate', '--model', dir, '--prompt', 'w5 w17 w300', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).new_tokens, free.slice(0, free.indexOf(free[2]) + 1));
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ max_new_tokens: 2 }));
  assert.equal(JSON.parse(runCli('generate', '--model', dir, '--prompt', 'w5 w17 w300', '--json').stdout).new_tokens.length, 2);
});

test('merge copies every tokenizer, chat-template and generation file of the base', () => {
  const dir = gpt2WithWordTokenizer();
  const companions = { 'generation_config.json': '{"max_new_tokens": 7}', 'chat_template.jinja': '{{ messages[0].content }}', 'special_tokens_map.json': '{}', 'added_tokens.json': '{}' };
  for (const [f, text] of Object.entries(companions)) writeFileSync(join(dir, f), text);
  const out = join(tempDir(), 'merged');
  const r = runCli('merge', '--model', dir, '--adapter', join(fixturesDir, 'gpt2-tiny-lora'), '--out', out);
  assert.equal(r.code, 0, r.stderr);
  for (const [f, text] of Object.entries(companions)) assert.equal(readFileSync(join(out, f), 'utf8'), text, f);
  assert.ok(existsSync(join(out, 'tokenizer.json')) && existsSync(join(out, 'tokenizer_config.json')));
});
