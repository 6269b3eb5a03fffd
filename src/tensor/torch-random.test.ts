import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TorchGenerator, torchRandperm } from './torch-random.js';

test("the engine is MT19937: the 10000th output after seed 5489 is 4123659995 (the C++ standard's check value)", () => {
  const g = new TorchGenerator(5489);
  let v = 0;
  for (let i = 0; i < 10000; i++) v = g.random();
  assert.equal(v, 4123659995);
});

test('uniform draws match torch.manual_seed(0); torch.rand(3) = [0.4963, 0.7682, 0.0885]', () => {
  const g = new TorchGenerator(0);
  const draws = [0, 1, 2].map(() => g.uniformFloat32(0, 1));
  assert.deepEqual(
    draws.map((v) => Math.round(v * 1e4) / 1e4),
    [0.4963, 0.7682, 0.0885],
  );
  assert.ok(
    draws.every((v) => v === Math.fround(v)),
    'float32 values',
  );
});

test("seeds above 32 bits keep their low 32 bits, as mt19937 seeding does; negative seeds wrap as PyTorch's uint64 cast", () => {
  const a = new TorchGenerator(2n ** 32n + 7n),
    b = new TorchGenerator(7);
  assert.deepEqual([a.random(), a.random()], [b.random(), b.random()]);
  const c = new TorchGenerator(-1),
    d = new TorchGenerator(0xffffffff);
  assert.deepEqual([c.random(), c.random()], [d.random(), d.random()]);
});

test('randperm is a permutation, reproducible from the seed', () => {
  const p = torchRandperm(1000, new TorchGenerator(777));
  assert.deepEqual(
    [...p].sort((x, y) => x - y),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  assert.deepEqual(torchRandperm(1000, new TorchGenerator(777)), p);
  assert.notDeepEqual(torchRandperm(1000, new TorchGenerator(778)), p);
});
