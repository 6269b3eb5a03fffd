import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError, AutogradError, ShapeError } from '../errors.js';
import { gradcheck } from './gradcheck.js';
import { backward, noGrad, record } from './autograd.js';
import { Tensor } from './tensor.js';
import * as T from './index.js';

const leaf = (values: number[], shape = [values.length]) => {
  const t = Tensor.from(values, shape);
  t.requiresGrad = true;
  return t;
};

test('gradients accumulate into .grad across backward calls and uses', () => {
  const x = leaf([1, 2, 3]);
  x.mul(x).sum().backward(); // d/dx x^2 = 2x, x used twice in one graph
  assert.deepEqual(x.grad!.toArray(), [2, 4, 6]);
  x.sum().backward();
  assert.deepEqual(x.grad!.toArray(), [3, 5, 7]);
});

test('backward with an explicit output gradient', () => {
  const x = leaf([1, 2]);
  const y = x.mul(3);
  y.backward(Tensor.from([10, 100]));
  assert.deepEqual(x.grad!.toArray(), [30, 300]);
});

test('backward from a non-scalar without a gradient is a typed error', () => {
  const y = leaf([1, 2]).mul(2);
  assert.throws(
    () => y.backward(),
    (e: unknown) => e instanceof AutogradError && /shape \[2\] without a gradient/.test(e.message),
  );
  assert.throws(() => y.backward(Tensor.from([1, 2, 3])), AutogradError);
});

test('the graph is freed after backward unless retained', () => {
  const x = leaf([1, 2]);
  const y = x.exp().sum();
  y.backward(undefined, { retainGraph: true });
  y.backward();
  assert.deepEqual(
    x.grad!.toArray().map((v) => +v.toFixed(5)),
    [2 * Math.E, 2 * Math.exp(2)].map((v) => +v.toFixed(5)),
  );
  assert.throws(
    () => y.backward(),
    (e: unknown) => e instanceof AutogradError && /already freed/.test(e.message),
  );
});

test('noGrad records nothing and detach stops gradients', () => {
  const x = leaf([1, 2]);
  const y = noGrad(() => x.mul(2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.node, null);
  const z = x.detach().mul(x).sum();
  z.backward();
  assert.deepEqual(x.grad!.toArray(), [1, 2]); // only the non-detached factor contributes
  assert.throws(() => backward(y), AutogradError);
});

test('gradcheck catches a wrong backward', () => {
  const wrongSquare = (x: Tensor) =>
    record(
      noGrad(() => x.mul(x)),
      'wrong',
      [x],
      (g) => [g.mul(x)],
    ); // missing factor 2
  assert.throws(() => gradcheck(wrongSquare, [leaf([0.5, -1.5, 2])]), AutogradError);
});

test('shape errors name the op and the shapes', () => {
  assert.throws(
    () => Tensor.zeros([2, 3]).add(Tensor.zeros([4])),
    (e: unknown) => e instanceof ShapeError && e.message.startsWith('[add]') && e.message.includes('[2, 3]') && e.message.includes('[4]'),
  );
  assert.throws(
    () => Tensor.zeros([2, 3]).matmul(Tensor.zeros([2, 3])),
    (e: unknown) => e instanceof ShapeError && e.message.startsWith('[matmul]') && e.code === 'E_SHAPE',
  );
  assert.throws(() => Tensor.zeros([2, 3]).reshape([4, 2]), ShapeError);
  assert.throws(() => T.concat([Tensor.zeros([2, 3]), Tensor.zeros([3, 3])], 1), ShapeError);
  assert.throws(() => T.layerNorm(Tensor.zeros([2, 3]), Tensor.zeros([4]), null), ShapeError);
  assert.throws(() => T.scaledDotProductAttention(Tensor.zeros([1, 3, 2, 4]), Tensor.zeros([1, 2, 2, 4]), Tensor.zeros([1, 2, 2, 4])), ShapeError);
});

test('axis and range errors are ArgumentErrors with the valid range', () => {
  assert.throws(
    () => Tensor.zeros([2, 3]).sum(2),
    (e: unknown) => e instanceof ArgumentError && /axis 2 is out of range/.test(e.message) && /\[-2, 1\]/.test(e.message),
  );
  assert.throws(() => Tensor.zeros([2, 3]).softmax(-3), ArgumentError);
  assert.throws(() => Tensor.zeros([2, 3]).narrow(1, 2, 2), ArgumentError);
  assert.throws(() => T.crossEntropy(Tensor.zeros([2, 3]), Tensor.from([0, 3], [2], 'int32')), ArgumentError);
  assert.throws(() => T.embedding(Tensor.zeros([4, 2]), Tensor.from([4], [1], 'int32')), ArgumentError);
  assert.throws(() => T.dropout(Tensor.zeros([2]), 1), ArgumentError);
});

test('views share storage: reshape of contiguous data, transpose and narrow copy nothing', () => {
  const x = Tensor.arange(12).reshape([3, 4]);
  assert.equal(x.reshape([2, 6]).data, x.data);
  assert.equal(x.T.data, x.data);
  assert.equal(x.narrow(0, 1, 2).data, x.data);
  assert.deepEqual(x.T.contiguous().toArray(), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
  assert.deepEqual(x.narrow(1, 1, 2).toArray(), [1, 2, 5, 6, 9, 10]);
  assert.notEqual(x.T.reshape([12]).data, x.data); // non-contiguous reshape must copy
});

test('crossEntropy mean ignores -100 positions in value and count', () => {
  const logits = Tensor.from([0, 0, 0, 5, 0, 0], [2, 3]);
  const loss = T.crossEntropy(logits, Tensor.from([1, -100], [2], 'int32'));
  assert.ok(Math.abs(loss.item() - Math.log(3)) < 1e-6);
});

test('dropout is seeded, scales kept values and drops about p', () => {
  const x = Tensor.ones([10000]);
  const a = T.dropout(x, 0.25, { generator: new T.Generator(5) }).toArray();
  const b = T.dropout(x, 0.25, { generator: new T.Generator(5) }).toArray();
  assert.deepEqual(a, b);
  const dropped = a.filter((v) => v === 0).length;
  assert.ok(dropped > 2300 && dropped < 2700, `dropped ${dropped} of 10000`);
  assert.ok(a.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6));
  assert.equal(T.dropout(x, 0.25, { training: false }), x);
});
