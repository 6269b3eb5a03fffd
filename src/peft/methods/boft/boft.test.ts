import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { assertClose, fixturesDir } from '../../../../test/helpers.js';
import { loadBase, zooFixture } from '../../../../test/zoo.js';
import { ConfigError } from '../../../errors.js';
import { Linear } from '../../../nn/index.js';
import { loadPretrained } from '../../../models/index.js';
import { Generator, noGrad, Tensor } from '../../../tensor/index.js';
import { getPeftModel } from '../../index.js';
import { BoftLayer } from './layer.js';

const fixture = zooFixture('llama-tiny-boft');

test('y = ((x_k @ R_k) W^T) * s + bias with R_k = (I - S)(I + S)^-1, S = (R - R^T) / 2; R_k orthogonal', () => {
  const base = new Linear(8, 3, true);
  const gen = new Generator(3);
  for (const t of [base.weight, base.bias!]) (t.data as Float32Array).set(Tensor.randn(t.shape, gen).contiguousData());
  const layer = new BoftLayer(base);
  layer.addAdapter('a', { blocks: 2, blockSize: 4, dropout: 0 }, false, gen);
  layer.active = ['a'];
  const R = noGrad(() => layer.rotation('a'));
  const eye2 = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  assertClose(noGrad(() => R.matmul(R.transpose(-1, -2))).contiguousData(), [...eye2, ...eye2], 1e-5, 0, 'R R^T = I');
  // (I + S) R = I - S for each block.
  const raw = layer.boft_R.items.get('a')!.reshape([2, 4, 4]);
  const S = noGrad(() => raw.sub(raw.transpose(-1, -2)).mul(0.5));
  const I = Tensor.from([...eye2, ...eye2], [2, 4, 4]);
  assertClose(noGrad(() => I.add(S).matmul(R)).contiguousData(), noGrad(() => I.sub(S)).contiguousData(), 1e-5, 0, '(I + S) R = I - S');
  const x = Tensor.randn([2, 8], gen);
  const xr = Tensor.from(
    [0, 1].flatMap((row) =>
      [0, 1].flatMap((k) => [
        ...noGrad(() =>
          x
            .narrow(0, row, 1)
            .narrow(1, 4 * k, 4)
            .matmul(R.narrow(0, k, 1).reshape([4, 4])),
        ).contiguousData(),
      ]),
    ),
    [2, 8],
  );
  const s = layer.boft_s.items.get('a')!.reshape([3]);
  const expected = noGrad(() => xr.matmul(base.weight.T).mul(s).add(base.bias!));
  assertClose(noGrad(() => layer.forward(x)).contiguousData(), expected.contiguousData(), 1e-5, 0, 'forward');
});

test('bad BOFT configs are ConfigErrors naming the field: both or neither block field, a non-divisor, butterfly factors, Conv1D', () => {
  const llama = () => loadBase(fixture.base);
  assert.throws(
    () => getPeftModel(llama(), { peft_type: 'BOFT', boft_block_size: 8, boft_block_num: 8 }),
    (e: Error) => e instanceof ConfigError && /boft_block_size \(8\) and boft_block_num \(8\)/.test(e.message),
  );
  assert.throws(() => getPeftModel(llama(), { peft_type: 'BOFT', boft_block_size: 0 }), ConfigError);
  assert.throws(
    () => getPeftModel(llama(), { peft_type: 'BOFT', boft_block_size: 24, target_modules: ['q_proj'] }),
    (e: Error) => e instanceof ConfigError && /boft_block_size = 24 does not divide in_features = 64/.test(e.message),
  );
  assert.throws(
    () => getPeftModel(llama(), { peft_type: 'BOFT', boft_block_size: 0, boft_block_num: 7, target_modules: ['q_proj'] }),
    (e: Error) => e instanceof ConfigError && /boft_block_num = 7/.test(e.message),
  );
  assert.throws(
    () => getPeftModel(llama(), { peft_type: 'BOFT', boft_n_butterfly_factor: 2 }),
    (e: Error) => e instanceof ConfigError && /boft_n_butterfly_factor/.test(e.message),
  );
  const gpt2 = loadPretrained(join(fixturesDir, 'gpt2-tiny')).model;
  assert.throws(
    () => getPeftModel(gpt2, { peft_type: 'BOFT', target_modules: ['c_attn'] }),
    (e: Error) => e instanceof ConfigError && /Conv1D/.test(e.message),
  );
  const byNum = getPeftModel(llama(), { peft_type: 'BOFT', boft_block_size: 0, boft_block_num: 4, target_modules: ['q_proj'] });
  assert.deepEqual([...byNum.adapterStateDict('default').values()][0].shape, [1, 4, 16, 16]);
});
