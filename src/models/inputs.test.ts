import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { assertClose, fixturesDir } from '../../test/helpers.js';
import { ArgumentError, ShapeError } from '../errors.js';
import type { KVPrefix } from '../nn/index.js';
import { gradcheck } from '../tensor/gradcheck.js';
import { noGrad, Tensor } from '../tensor/index.js';
import { loadPretrained } from './load.js';
import type { CausalLM, SequenceClassifier } from './model.js';

const causal = ['gpt2-tiny', 'llama-tiny', 'qwen2-tiny'].map((name) => [name, loadPretrained(join(fixturesDir, name)).model as CausalLM] as const);
const bert = loadPretrained(join(fixturesDir, 'bert-tiny')).model as SequenceClassifier;
const ids = Tensor.from([5, 17, 300, 42, 7, 99, 3, 250, 11, 64, 8, 1, 2, 400, 31, 77, 120, 45, 6, 13], [2, 10], 'int32');
const P = 4;
/** Columns [from, to) of the ids as a fresh int32 tensor (int32 views cannot be copied out). */
const cols = (from: number, to: number, rows = ids.shape[0]) => {
  const T = ids.shape[1],
    data = ids.int32Data();
  return Tensor.from(Array.from({ length: rows }, (_, b) => Array.from(data.subarray(b * T + from, b * T + to))).flat(), [rows, to - from], 'int32');
};

/** Keys and values the model itself stores for the first `p` tokens: a prefix whose effect is known exactly. */
function ownPrefix(model: CausalLM, p: number): KVPrefix {
  const cache = model.newCache(ids.shape[0], p);
  noGrad(() => model.forward({ inputIds: cols(0, p), cache }));
  const pairs = Array.from({ length: cache.layers }, (_, l) => cache.stored(l).map((t) => t.contiguous()));
  return { keys: pairs.map(([k]) => k), values: pairs.map(([, v]) => v) };
}

const ones = (b: number, s: number) => new Tensor(new Float32Array(b * s).fill(1), [b, s]);

for (const [name, model] of causal) {
  const full = noGrad(() => model.forward({ inputIds: ids }));
  const tail = full.narrow(1, P, ids.shape[1] - P).contiguousData();

  test(`${name}: inputsEmbeds of the looked-up tokens give the logits of inputIds`, () => {
    const embeds = noGrad(() => model.inputEmbeddings().forward(ids));
    assertClose(noGrad(() => model.forward({ inputsEmbeds: embeds })).contiguousData(), full.contiguousData(), 1e-6, 0, 'logits');
  });

  test(`${name}: a key/value prefix of the model's own first tokens continues the sequence at positions P onward`, () => {
    const pastKeyValues = ownPrefix(model, P);
    const rest = cols(P, ids.shape[1]);
    assertClose(noGrad(() => model.forward({ inputIds: rest, pastKeyValues })).contiguousData(), tail, 1e-5, 0, 'prefix, no cache');
    assertClose(noGrad(() => model.forward({ inputIds: rest, pastKeyValues, attentionMask: ones(2, ids.shape[1]) })).contiguousData(), tail, 1e-5, 0, 'prefix with a mask over prefix + tokens');
    // With a cache the prefix is stored on the first step; later steps see it as past.
    const cache = model.newCache(2, ids.shape[1]);
    const first = noGrad(() => model.forward({ inputIds: cols(P, P + 2), pastKeyValues, cache }));
    const second = noGrad(() => model.forward({ inputIds: cols(P + 2, ids.shape[1]), cache }));
    assert.equal(cache.length, ids.shape[1]);
    const V = full.shape[2];
    assertClose(first.contiguousData(), full.narrow(1, P, 2).contiguousData(), 1e-5, 0, 'cached first step');
    assertClose(second.contiguousData(), full.narrow(1, P + 2, ids.shape[1] - P - 2).contiguousData(), 1e-5, 0, 'cached later steps');
    assert.equal(second.shape[2], V);
  });

  test(`${name}: a prefix or embeddings of the wrong shape, a short mask, both ids and embeddings are clear errors`, () => {
    const pastKeyValues = ownPrefix(model, P);
    const rest = cols(P, P + 2);
    assert.throws(() => model.forward({ inputIds: rest, pastKeyValues: { keys: pastKeyValues.keys.slice(1), values: pastKeyValues.values } }), ShapeError);
    assert.throws(() => model.forward({ inputIds: cols(P, P + 2, 1), pastKeyValues }), /the model needs \[1, /);
    assert.throws(() => model.forward({ inputIds: rest, pastKeyValues, attentionMask: ones(2, 2) }), /attention mask is \[2, 2\], but the model sees 2 rows of 4 past/);
    assert.throws(() => model.forward({ inputIds: rest, inputsEmbeds: model.inputEmbeddings().forward(rest) }), ArgumentError);
    assert.throws(() => model.forward({ inputsEmbeds: Tensor.zeros([2, 2, 3]) }), ShapeError);
    const cache = model.newCache(2, 8);
    noGrad(() => model.forward({ inputIds: rest, cache }));
    assert.throws(() => model.forward({ inputIds: rest, pastKeyValues, cache }), /cache already holds 2 positions/);
  });
}

test('gpt2-tiny: positions past the position table are a clear error, prefix included', () => {
  const model = causal[0][1];
  const long = Tensor.zeros([1, 126], 'int32');
  const cache = model.newCache(1, 8);
  noGrad(() => model.forward({ inputIds: Tensor.zeros([1, P], 'int32'), cache }));
  const pastKeyValues = {
    keys: Array.from({ length: cache.layers }, (_, l) => cache.stored(l)[0].contiguous()),
    values: Array.from({ length: cache.layers }, (_, l) => cache.stored(l)[1].contiguous()),
  };
  assert.throws(() => model.forward({ inputIds: long, pastKeyValues }), /position 129 is beyond the model's 128 positions/);
});

test('llama-tiny: gradients reach a key/value prefix and inputsEmbeds (finite differences)', () => {
  const model = causal[1][1];
  const { layers, kvHeads, headDim } = model.keyValueLayout();
  const key = Tensor.randn([1, kvHeads, 2, headDim]).mul(0.5).contiguous();
  const value = Tensor.randn([1, kvHeads, 2, headDim]).mul(0.5).contiguous();
  const embeds = noGrad(() => model.inputEmbeddings().forward(cols(0, 3, 1))).contiguous();
  for (const t of [key, value, embeds]) t.requiresGrad = true;
  const fn = (k: Tensor, v: Tensor, e: Tensor) => model.forward({ inputsEmbeds: e, pastKeyValues: { keys: Array(layers).fill(k), values: Array(layers).fill(v) } }).narrow(2, 0, 16);
  const { checked } = gradcheck(fn, [key, value, embeds], { atol: 5e-3, rtol: 2e-2 });
  assert.ok(checked > 0);
});

test('bert-tiny: inputsEmbeds equal inputIds; a masked-out prefix only shifts the positions', () => {
  const tokenIds = Tensor.from([2, 40, 41, 42, 3, 2, 50, 51, 3, 0], [2, 5], 'int32');
  const mask = Tensor.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 0], [2, 5]);
  const base = noGrad(() => bert.forward({ inputIds: tokenIds, attentionMask: mask }));
  assertClose(noGrad(() => bert.forward({ inputsEmbeds: bert.inputEmbeddings().forward(tokenIds), attentionMask: mask })).contiguousData(), base.contiguousData(), 1e-5, 0, 'inputsEmbeds');
  const { layers, kvHeads, headDim } = bert.keyValueLayout();
  const junk = () => Tensor.randn([2, kvHeads, P, headDim]);
  const pastKeyValues = { keys: Array.from({ length: layers }, junk), values: Array.from({ length: layers }, junk) };
  const prefixMask = new Tensor(Float32Array.from([0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0]), [2, P + 5]);
  const shifted = noGrad(() => bert.forward({ inputIds: tokenIds, attentionMask: prefixMask, pastKeyValues })).contiguousData();
  // The same model with its position table moved up by P rows sees the tokens at P.. as positions 0..
  const table = bert.getSubmodule('bert.embeddings.position_embeddings') as unknown as { weight: Tensor };
  const original = table.weight;
  try {
    const rows = original.shape[0];
    table.weight = original.narrow(0, P, rows - P).contiguous();
    const expected = noGrad(() => bert.forward({ inputIds: tokenIds, attentionMask: mask })).contiguousData();
    assertClose(shifted, expected, 1e-4, 1e-4, 'masked prefix');
  } finally {
    table.weight = original;
  }
});
