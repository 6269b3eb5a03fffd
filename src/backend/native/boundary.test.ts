import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError, ShapeError } from '../../errors.js';
import { setBackend } from '../index.js';
import { scaledDotProductAttention, Tensor } from '../../tensor/index.js';
import { availableBackends, nativeAvailable } from '../../../test/helpers.js';
import { createBackend } from '../select.js';

// Issue 12: data must never reach memory outside a buffer, and no size may divide by zero.

test('a Tensor view with strides or an offset past its storage is refused at construction (was a segfault in sum/matmul)', () => {
  const data = new Float32Array(6);
  assert.throws(() => new Tensor(data, [2, 3], { strides: [3, 1], offset: 1 }), ShapeError);
  assert.throws(() => new Tensor(data, [2, 3], { strides: [1000000, 1] }), ShapeError);
  assert.throws(() => new Tensor(data, [2, 3], { strides: [-3, 1] }), ShapeError);
  assert.throws(() => new Tensor(data, [2, 3], { strides: [3] }), ShapeError);
  assert.throws(() => new Tensor(data, [2, 3], { strides: [3, 1], offset: -1 }), ShapeError);
  assert.throws(() => new Tensor(data, [2, 3], { offset: 1 }), ShapeError);
  // In-bounds views still work, including a broadcast (stride 0) and an empty one far away.
  assert.deepEqual(new Tensor(Float32Array.of(1, 2, 3), [2, 3], { strides: [0, 1] }).sum().item(), 12);
  assert.equal(new Tensor(data, [0, 3], { strides: [3, 1], offset: 99 }).size, 0);
  assert.deepEqual(new Tensor(Float32Array.of(0, 1, 2, 3, 4, 5), [2, 2], { strides: [3, 1], offset: 1 }).toArray(), [1, 2, 4, 5]);
});

test('int32 tensors refuse values that would wrap (an id of 2^32 + 5 must not become 5)', () => {
  assert.throws(() => Tensor.from([1, 2 ** 32 + 5], [1, 2], 'int32'), ArgumentError);
  assert.throws(() => Tensor.from([1.5], [1, 1], 'int32'), ArgumentError);
  assert.deepEqual(Tensor.from([-(2 ** 31), 2 ** 31 - 1], [2], 'int32').toArray(), [-(2 ** 31), 2 ** 31 - 1]);
});

for (const backend of availableBackends()) {
  test(`${backend.name}: matmul with an inner dimension of 0 gives zeros, as PyTorch (was uninitialised memory)`, () => {
    setBackend(backend);
    // Large enough (>= 16384 outputs) that the output buffer is not zero-filled by the allocator.
    for (const [a, b] of [
      [Tensor.zeros([200, 0]), Tensor.zeros([0, 300])],
      [Tensor.zeros([2, 100, 0]), Tensor.zeros([2, 0, 300])],
    ]) {
      const y = a.matmul(b);
      assert.deepEqual(y.shape, [...a.shape.slice(0, -1), 300]);
      assert.ok(y.contiguousData().every((v) => v === 0));
    }
  });

  test(`${backend.name}: embedding, rope and attention with a size of 0 return empty results (was SIGFPE)`, () => {
    setBackend(backend);
    const out = new Float32Array(0);
    backend.embedding(out, new Float32Array(0), Int32Array.of(0, 1), 0);
    backend.embeddingBackward(new Float32Array(0), new Float32Array(0), Int32Array.of(0, 1), 0);
    backend.rope(out, out, out, out, 1, 2, 3, 0, 0, false);
    const w = new Tensor(new Float32Array(0), [5, 0]);
    assert.deepEqual(w.matmul(Tensor.zeros([0, 4])).toArray(), new Array(20).fill(0));
    // Attention with no queries, no keys or a head width of 0 runs forward and backward.
    for (const [tq, tk, d] of [
      [0, 3, 4],
      [2, 0, 4],
      [2, 2, 0],
    ]) {
      const q = Tensor.zeros([1, 2, tq, d]);
      q.requiresGrad = true;
      const y = scaledDotProductAttention(q, Tensor.zeros([1, 2, tk, d]), Tensor.zeros([1, 2, tk, d]), { causal: tk >= tq });
      y.sum().backward();
      assert.deepEqual(y.shape, [1, 2, tq, d]);
    }
  });
}

test('the native addon checks every buffer against the sizes, strides and ids it is given', { skip: !nativeAvailable() }, () => {
  const native = createBackend('native');
  const f = (n: number) => new Float32Array(n);
  const cases: [string, () => void][] = [
    [
      'gemm A too short',
      () => native.gemm({ a: f(5), b: f(6), c: f(4), aOffsets: [0], bOffsets: [0], cOffsets: [0], m: 2, n: 2, k: 3, transA: false, transB: false, lda: 3, ldb: 2, ldc: 2, alpha: 1, beta: 0 }),
    ],
    [
      'gemm offset past C',
      () => native.gemm({ a: f(6), b: f(6), c: f(4), aOffsets: [0], bOffsets: [0], cOffsets: [1], m: 2, n: 2, k: 3, transA: false, transB: false, lda: 3, ldb: 2, ldc: 2, alpha: 1, beta: 0 }),
    ],
    [
      'gemm lda too small',
      () => native.gemm({ a: f(6), b: f(6), c: f(4), aOffsets: [0], bOffsets: [0], cOffsets: [0], m: 2, n: 2, k: 3, transA: false, transB: false, lda: 1, ldb: 2, ldc: 2, alpha: 1, beta: 0 }),
    ],
    ['binary stride past b', () => native.binary(0, f(4), { data: f(4), offset: 0, strides: [2, 1] }, { data: f(4), offset: 0, strides: [4, 1] }, [2, 2])],
    ['binary negative size', () => native.binary(0, f(4), { data: f(4), offset: 0, strides: [2, 1] }, { data: f(4), offset: 0, strides: [2, 1] }, [-2, 2])],
    ['copy into a short dst', () => native.copy({ data: f(3), offset: 0, strides: [2, 1] }, { data: f(4), offset: 0, strides: [2, 1] }, [2, 2])],
    ['where offset', () => native.where(f(4), { data: f(4), offset: 1, strides: [2, 1] }, { data: f(4), offset: 0, strides: [2, 1] }, { data: f(4), offset: 0, strides: [2, 1] }, [2, 2])],
    ['reduce', () => native.reduce('sum', f(2), f(5), 2, 3, 1)],
    ['softmax', () => native.softmax(f(4), f(4), 2, 3, false)],
    ['layerNorm weight', () => native.layerNorm(f(6), f(2), f(2), f(6), f(2), null, 2, 3, 1e-5)],
    ['rmsNorm rstd', () => native.rmsNorm(f(6), f(1), f(6), null, 2, 3, 1e-5)],
    ['crossEntropy target', () => native.crossEntropy(f(2), f(2), f(6), Int32Array.of(0, 3), 2, 3, -100)],
    ['embedding id', () => native.embedding(f(4), f(6), Int32Array.of(0, 3), 2)],
    ['embedding negative id', () => native.embedding(f(4), f(6), Int32Array.of(-1, 0), 2)],
    ['embeddingBackward id', () => native.embeddingBackward(f(6), f(4), Int32Array.of(5, 0), 2)],
    ['rope cos table', () => native.rope(f(8), f(8), f(3), f(4), 1, 1, 2, 4, 0, false)],
    ['dropout p', () => native.dropout(f(4), f(4), 1.5, 0)],
    ['unary op code', () => native.unary(99 as never, f(4), f(4), 0, 0)],
    [
      'attention kv heads',
      () =>
        native.attention(f(16), f(4), {
          q: { data: f(16), offset: 0, strides: [16, 8, 4, 1] },
          k: { data: f(16), offset: 0, strides: [16, 8, 4, 1] },
          v: { data: f(16), offset: 0, strides: [16, 8, 4, 1] },
          mask: null,
          batch: 1,
          heads: 2,
          kvHeads: 0,
          tq: 2,
          tk: 2,
          headDim: 4,
          scale: 0.5,
          causal: true,
        }),
    ],
    [
      'attention q strides',
      () =>
        native.attention(f(16), f(4), {
          q: { data: f(16), offset: 4, strides: [16, 8, 4, 1] },
          k: { data: f(16), offset: 0, strides: [16, 8, 4, 1] },
          v: { data: f(16), offset: 0, strides: [16, 8, 4, 1] },
          mask: null,
          batch: 1,
          heads: 2,
          kvHeads: 2,
          tq: 2,
          tk: 2,
          headDim: 4,
          scale: 0.5,
          causal: true,
        }),
    ],
  ];
  for (const [what, call] of cases) assert.throws(call, (e: unknown) => e instanceof ArgumentError && /^\[native\]/.test((e as Error).message), what);
  // The same attention with valid strides runs.
  native.attention(f(16), f(4), {
    q: { data: f(16), offset: 0, strides: [16, 8, 4, 1] },
    k: { data: f(16), offset: 0, strides: [16, 8, 4, 1] },
    v: { data: f(16), offset: 0, strides: [16, 8, 4, 1] },
    mask: null,
    batch: 1,
    heads: 2,
    kvHeads: 2,
    tq: 2,
    tk: 2,
    headDim: 4,
    scale: 0.5,
    causal: true,
  });
});
