import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturesDir } from '../../test/helpers.js';
import { ArgumentError, ConfigError } from '../errors.js';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.js';
import { noGrad, Tensor } from '../tensor/index.js';
import { describeLoadReport, loadPretrained } from './load.js';
import type { CausalLM } from './model.js';

// Issue 12: configs from strangers. Each mutation of a fixture's config.json (or its weights)
// must be a ConfigError before any allocation, not a SIGFPE, minutes of allocation or a silent change.

/** A copy of a fixture folder with config.json fields replaced (undefined deletes). */
function fixtureWith(name: string, changes: Record<string, unknown>, tensors?: (t: Map<string, Tensor>) => Map<string, Tensor>): string {
  const dir = mkdtempSync(join(tmpdir(), 'peft-ts-cfg-'));
  const config = { ...JSON.parse(readFileSync(join(fixturesDir, name, 'config.json'), 'utf8')), ...changes };
  for (const [k, v] of Object.entries(changes)) if (v === undefined) delete config[k];
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  if (tensors) saveSafetensors(join(dir, 'model.safetensors'), tensors(loadSafetensors(join(fixturesDir, name, 'model.safetensors'))));
  else copyFileSync(join(fixturesDir, name, 'model.safetensors'), join(dir, 'model.safetensors'));
  return dir;
}

function expectConfigError(dir: string, pattern: RegExp, what: string): void {
  const started = performance.now();
  assert.throws(
    () => loadPretrained(dir),
    (e: unknown) => e instanceof ConfigError && pattern.test(e.message),
    what,
  );
  assert.ok(performance.now() - started < 5000, `${what}: refused in ${performance.now() - started} ms`);
}

test('zero, negative, fractional and absurd sizes are ConfigErrors naming the field (n_embd 0 was SIGFPE, n_layer 1e9 allocated for minutes)', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['gpt2-tiny', { n_embd: 0 }, /'n_embd' must be a positive integer/],
    ['gpt2-tiny', { n_embd: -64 }, /'n_embd'/],
    ['gpt2-tiny', { n_head: 0 }, /'n_head'/],
    ['gpt2-tiny', { n_head: 3 }, /'n_head' must be a divisor of n_embd/],
    ['gpt2-tiny', { n_layer: 1e9 }, /'n_layer' must be a positive integer of at most 1024/],
    ['gpt2-tiny', { n_layer: 2.5 }, /'n_layer'/],
    ['gpt2-tiny', { n_positions: 1e9 }, /'n_positions'/],
    ['gpt2-tiny', { vocab_size: 2 ** 31 - 1 }, /'vocab_size'/],
    ['gpt2-tiny', { embd_pdrop: 1.5 }, /'embd_pdrop' must be a probability/],
    ['gpt2-tiny', { layer_norm_epsilon: -1 }, /'layer_norm_epsilon' must be a positive number/],
    ['llama-tiny', { head_dim: 0 }, /'head_dim'/],
    ['llama-tiny', { head_dim: 15 }, /'head_dim' must be even/],
    ['llama-tiny', { num_key_value_heads: 0 }, /'num_key_value_heads'/],
    ['llama-tiny', { intermediate_size: 1e12 }, /'intermediate_size'/],
    ['llama-tiny', { rope_scaling: { rope_type: 'linear', factor: -2 } }, /rope_scaling\.factor must be a positive number/],
    ['llama-tiny', { rope_scaling: 'linear' }, /rope_scaling/],
    ['bert-tiny', { hidden_size: 0 }, /'hidden_size'/],
    ['bert-tiny', { num_labels: -1 }, /'num_labels'/],
  ];
  for (const [name, change, pattern] of cases) expectConfigError(fixtureWith(name, change), pattern, `${name} ${JSON.stringify(change)}`);
});

test('sizes within the caps but larger than the checkpoint are refused before allocation', () => {
  // 1000 x 1M positions x 64 would be 256 MB of wpe; the checkpoint holds ~100K values.
  expectConfigError(fixtureWith('gpt2-tiny', { n_positions: 1 << 22 }), /describes a gpt2 model of \d+ parameters but the checkpoint holds \d+/, 'n_positions');
  expectConfigError(fixtureWith('llama-tiny', { vocab_size: 1 << 24 }), /describes a llama model/, 'vocab_size');
});

test('an unknown activation is an error listing the accepted ones (it silently ran gelu_new)', () => {
  for (const act of ['relu', 'bogus'])
    expectConfigError(fixtureWith('gpt2-tiny', { activation_function: act }), /'activation_function' must be one of 'gelu_new', 'gelu_pytorch_tanh', 'gelu_fast', 'gelu'/, act);
  expectConfigError(fixtureWith('llama-tiny', { hidden_act: 'gelu' }), /'hidden_act' must be one of 'silu'/, 'llama gelu');
  // The accepted names still load; gelu_pytorch_tanh is gelu_new's formula.
  const tanh = loadPretrained(fixtureWith('gpt2-tiny', { activation_function: 'gelu_pytorch_tanh' })).model as CausalLM;
  const base = loadPretrained(join(fixturesDir, 'gpt2-tiny')).model as CausalLM;
  const ids = Tensor.from([1, 2, 3], [1, 3], 'int32');
  assert.deepEqual(noGrad(() => tanh.forward({ inputIds: ids })).toArray(), noGrad(() => base.forward({ inputIds: ids })).toArray());
});

test('a config with fewer or more layers than the checkpoint is an error (fewer silently dropped the rest)', () => {
  expectConfigError(fixtureWith('gpt2-tiny', { n_layer: 1 }), /declares 1 layer\(s\) but the checkpoint holds 2/, 'fewer');
  expectConfigError(fixtureWith('gpt2-tiny', { n_layer: 3 }), /declares 3 layer\(s\) but the checkpoint holds 2/, 'more');
  expectConfigError(fixtureWith('llama-tiny', { num_hidden_layers: 1 }), /declares 1 layer/, 'llama fewer');
  // A checkpoint whose layer indices skip one (0 and 2) does not pass for two layers.
  const skipped = fixtureWith('gpt2-tiny', {}, (t) => new Map([...t].map(([k, v]) => [k.replace('h.1.', 'h.2.'), v])));
  expectConfigError(skipped, /declares 2 layer\(s\) but the checkpoint holds 2 \(indices up to 2\)/, 'skipped index');
});

test('every load reports the checkpoint keys it ignored and the parameters it initialised', () => {
  const extra = fixtureWith('gpt2-tiny', {}, (t) => new Map([...t, ['transformer.extra_head.weight', Tensor.zeros([3])]]));
  const { report } = loadPretrained(extra);
  assert.deepEqual(report.unexpected, ['transformer.extra_head.weight']);
  assert.match(describeLoadReport(report)!, /ignored 1 checkpoint tensor\(s\) the model does not use: transformer\.extra_head\.weight/);
  assert.equal(describeLoadReport(loadPretrained(join(fixturesDir, 'gpt2-tiny')).report), null);
});

test('input ids outside [0, vocab) are an error, including ids beyond int32 that used to wrap', () => {
  const model = loadPretrained(join(fixturesDir, 'gpt2-tiny')).model as CausalLM;
  assert.throws(
    () => model.forward({ inputIds: Tensor.from([1, 1000], [1, 2], 'int32') }),
    (e: unknown) => e instanceof ArgumentError && /outside the vocabulary \[0, 1000\)/.test((e as Error).message),
  );
  assert.throws(() => model.forward({ inputIds: Tensor.from([1, -1], [1, 2], 'int32') }), ArgumentError);
  assert.throws(() => Tensor.from([1, 2 ** 32 + 5], [1, 2], 'int32'), ArgumentError); // would have become id 5
});
