import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose } from '../../../../test/helpers.js';
import { loadBase, zooFixture } from '../../../../test/zoo.js';
import { ConfigError } from '../../../errors.js';
import { Linear } from '../../../nn/index.js';
import { Generator, noGrad, Tensor } from '../../../tensor/index.js';
import { getPeftModel } from '../../index.js';
import { OftLayer } from './layer.js';

const fixture = zooFixture('llama-tiny-oft');

/** A layer with one adapter whose parameters are seeded noise, and the dense block-diagonal rotation it applies. */
function randomLayer(config: { exact: boolean; shared?: boolean; terms?: number }) {
  const base = new Linear(8, 3, true);
  const gen = new Generator(5);
  for (const t of [base.weight, base.bias!]) (t.data as Float32Array).set(Tensor.randn(t.shape, gen).contiguousData());
  const layer = new OftLayer(base);
  layer.addAdapter(
    'a',
    { blockSize: 4, blocks: 2, blockShare: config.shared ?? false, coft: false, eps: 6e-5, cayleyNeumann: !config.exact, neumannTerms: config.terms ?? 5, moduleDropout: 0 },
    false,
    gen,
  );
  layer.active = ['a'];
  return layer;
}

/** (I - Q)(I + Q)^-1 per block, by float64 Gauss-Jordan on the host: the exact branch's matrix. */
function skewBlocks(layer: OftLayer): number[][][] {
  const w = layer.oft_R.items.get('a')!.weight;
  const [rows, m] = w.shape;
  const d = w.contiguousData();
  return Array.from({ length: rows }, (_, r) => {
    const Q = Array.from({ length: 4 }, () => new Array<number>(4).fill(0));
    let k = 0;
    for (let i = 0; i < 4; i++)
      for (let j = i + 1; j < 4; j++) {
        Q[i][j] = d[r * m + k];
        Q[j][i] = -d[r * m + k];
        k++;
      }
    return Q;
  });
}

const matMul = (a: number[][], b: number[][]) => a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
const plusIdentity = (a: number[][], sign: number) => a.map((row, i) => row.map((v, j) => sign * v + (i === j ? 1 : 0)));
function invert(a: number[][]): number[][] {
  const n = a.length,
    m = a.map((row, i) => [...row, ...row.map((_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    const p = m[c][c];
    for (let j = 0; j < 2 * n; j++) m[c][j] /= p;
    for (let r = 0; r < n; r++)
      if (r !== c) {
        const f = m[r][c];
        for (let j = 0; j < 2 * n; j++) m[r][j] -= f * m[c][j];
      }
  }
  return m.map((row) => row.slice(n));
}

test('the exact branch is (I - Q)(I + Q)^-1 and the Neumann branch approximates its transpose (I + Q)(I - Q)^-1', () => {
  for (const exact of [true, false]) {
    const layer = randomLayer({ exact, terms: 12 });
    const R = noGrad(() => layer.rotation('a')).contiguousData();
    const expected = skewBlocks(layer).flatMap((Q) => {
      const M = exact ? matMul(plusIdentity(Q, -1), invert(plusIdentity(Q, 1))) : matMul(plusIdentity(Q, 1), invert(plusIdentity(Q, -1)));
      return M.flat();
    });
    // 12 Neumann terms of a Q with entries ~0.1 converge to ~1e-7.
    assertClose(R, expected, 1e-5, 0, exact ? 'exact Cayley' : 'Neumann Cayley');
    // Orthogonal: R R^T = I per block.
    const blocks = noGrad(() => layer.rotation('a'));
    assertClose(
      noGrad(() => blocks.matmul(blocks.transpose(-1, -2))).contiguousData(),
      [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1],
      1e-5,
      0,
      'R R^T',
    );
  }
});

test('the input is rotated block by block before the base layer: y = base(x_k @ R_k), with a shared block repeated', () => {
  for (const shared of [false, true]) {
    const layer = randomLayer({ exact: true, shared });
    const x = Tensor.randn([2, 8], new Generator(9));
    const R = noGrad(() => layer.rotation('a'));
    const blocks = shared ? [R, R] : [R.narrow(0, 0, 1), R.narrow(0, 1, 1)];
    const rotated = Tensor.from(
      [0, 1].flatMap((row) =>
        blocks.flatMap((b, k) => [
          ...noGrad(() =>
            x
              .narrow(0, row, 1)
              .narrow(1, 4 * k, 4)
              .matmul(b.reshape([4, 4])),
          ).contiguousData(),
        ]),
      ),
      [2, 8],
    );
    assertClose(noGrad(() => layer.forward(x)).contiguousData(), noGrad(() => layer.baseLayer().forward(rotated)).contiguousData(), 1e-5, 0, `shared=${shared}`);
  }
});

test('COFT keeps every block within eps of the identity; block_share saves one block', () => {
  const peft = getPeftModel(loadBase(fixture.base), { peft_type: 'OFT', oft_block_size: 16, target_modules: ['q_proj'], coft: true, eps: 1e-3, init_weights: false });
  const [, layer] = peft.tunerLayers()[0] as [string, OftLayer];
  noGrad(() => layer.rotation('default'));
  const w = layer.oft_R.items.get('default')!.weight;
  const [rows, m] = w.shape;
  for (let r = 0; r < rows; r++) {
    const norm = Math.sqrt(
      2 *
        w
          .contiguousData()
          .subarray(r * m, (r + 1) * m)
          .reduce((s, v) => s + v * v, 0),
    );
    assert.ok(norm <= 1e-3 / Math.sqrt(rows) + 1e-9, `block ${r} norm ${norm}`);
  }
  const sharedPeft = getPeftModel(loadBase(fixture.base), { peft_type: 'OFT', oft_block_size: 16, target_modules: ['q_proj'], block_share: true });
  assert.deepEqual([...sharedPeft.adapterStateDict('default').values()][0].shape, [1, 120]);
});

test('r and oft_block_size: exactly one is set, and it must divide in_features (ConfigError naming the field)', () => {
  const model = () => loadBase(fixture.base);
  assert.throws(
    () => getPeftModel(model(), { peft_type: 'OFT', r: 4, oft_block_size: 16 }),
    (e: Error) => e instanceof ConfigError && /r \(4\) and oft_block_size \(16\)/.test(e.message),
  );
  assert.throws(() => getPeftModel(model(), { peft_type: 'OFT', r: 0, oft_block_size: 0 }), ConfigError);
  assert.throws(
    () => getPeftModel(model(), { peft_type: 'OFT', oft_block_size: 24, target_modules: ['q_proj'] }),
    (e: Error) => e instanceof ConfigError && /oft_block_size = 24 does not divide in_features = 64/.test(e.message) && /oft_block_size = 16/.test((e as ConfigError).hint ?? ''),
  );
  assert.throws(
    () => getPeftModel(model(), { peft_type: 'OFT', r: 5, oft_block_size: 0, target_modules: ['q_proj'] }),
    (e: Error) => e instanceof ConfigError && /r = 5 does not divide/.test(e.message),
  );
  // Checked for every target before any is wrapped: q_proj (64 inputs) takes b = 32, down_proj (176) does not.
  const m = model();
  assert.throws(() => getPeftModel(m, { peft_type: 'OFT', oft_block_size: 32, target_modules: ['q_proj', 'down_proj'] }), /down_proj/);
  assert.ok(
    m.namedModules().every(([, mod]) => !(mod instanceof OftLayer)),
    'no layer was wrapped',
  );
  const byRank = getPeftModel(model(), { peft_type: 'OFT', r: 4, oft_block_size: 0, target_modules: ['q_proj'] });
  assert.deepEqual([...byRank.adapterStateDict('default').values()][0].shape, [4, 120]);
});

test('bias "oft_only" trains and saves the adapted layers\' biases, "all" every bias (PEFT\'s bias option)', () => {
  const only = getPeftModel(loadBase('gpt2-tiny'), { peft_type: 'OFT', oft_block_size: 8, target_modules: ['c_attn'], bias: 'oft_only' });
  const biasKeys = [...only.adapterStateDict('default').keys()].filter((k) => k.endsWith('.bias'));
  assert.deepEqual(
    biasKeys,
    only.tunerLayers().map(([p]) => `base_model.model.${p}.base_layer.bias`),
  );
  assert.ok(biasKeys.every((k) => only.adapterStateDict('default').get(k)!.requiresGrad));
  const all = getPeftModel(loadBase('gpt2-tiny'), { peft_type: 'OFT', oft_block_size: 8, target_modules: ['c_attn'], bias: 'all' });
  assert.ok([...all.adapterStateDict('default').keys()].filter((k) => k.endsWith('.bias')).length > biasKeys.length);
});
