import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose, nativeAvailable } from '../../test/helpers.js';
import { f32ToBf16 } from '../dtype.js';
import { Generator } from '../tensor/random.js';
import { createBackend, jsBackend, type Backend, type GemmBf16Args } from './index.js';

/**
 * The bfloat16-weight GEMM of every native kernel against the js reference. Both round a to
 * bfloat16 the same way, so what remains is float32 vs float64 accumulation: within 1e-5 of
 * the output scale. Shapes cover the decoding path (m <= 8), the packed 12x32 tiles and their
 * edges, odd k (a half-filled last pair), padded leading dimensions, offsets, beta, and k past one 1024-wide block.
 */
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 70, 33],
  [3, 130, 64],
  [8, 33, 7],
  [2, 50, 301],
  [1, 300, 768],
  [9, 17, 2],
  [13, 70, 33],
  [40, 130, 70],
  [25, 32, 128],
  [13, 33, 2051],
];

function args(gen: Generator, m: number, n: number, k: number, transB: boolean, beta: number): GemmBf16Args {
  const lda = k + 3,
    ldb = (transB ? k : n) + 5,
    ldc = n + 2,
    bRows = transB ? n : k;
  const rand = (len: number) => Float32Array.from({ length: len }, () => gen.normal());
  return {
    a: rand(2 + m * lda),
    b: f32ToBf16(rand(1 + bRows * ldb)),
    c: rand(4 + m * ldc),
    aOffset: 2,
    bOffset: 1,
    cOffset: 4,
    m,
    n,
    k,
    transB,
    lda,
    ldb,
    ldc,
    alpha: 0.75,
    beta,
  };
}

function check(native: Backend, kernel: 'widen' | 'avx512bf16') {
  for (const [m, n, k] of SHAPES) {
    for (const transB of [false, true]) {
      for (const beta of [0, 1]) {
        const ref = args(new Generator(m * 1000 + n * 10 + k), m, n, k, transB, beta);
        const got = { ...ref, c: ref.c.slice() };
        jsBackend.gemmBf16(ref);
        native.gemmBf16(got);
        const scale = ref.c.reduce((s, v) => Math.max(s, Math.abs(v)), 1);
        assertClose(got.c, ref.c, 1e-5 * scale, 0, `${kernel} m=${m} n=${n} k=${k} transB=${transB} beta=${beta}`);
      }
    }
  }
}

const skip = nativeAvailable() ? false : 'native addon not built';
test('bf16 GEMM: widen + sgemm kernel agrees with js', { skip }, () => {
  const native = createBackend('native');
  assert.equal(native.bf16Kernel!('widen'), 'widen');
  try {
    check(native, 'widen');
  } finally {
    native.bf16Kernel!('auto');
  }
});

test('bf16 GEMM: AVX512-BF16 kernel agrees with js (on CPUs that have it)', { skip }, (t) => {
  const native = createBackend('native');
  if (native.bf16Kernel!('avx512bf16') !== 'avx512bf16') {
    native.bf16Kernel!('auto');
    t.skip('this CPU lacks AVX512-BF16');
    return;
  }
  try {
    check(native, 'avx512bf16');
  } finally {
    native.bf16Kernel!('auto');
  }
});

test('bf16 GEMM: the js reference equals a float64 sum over the rounded operands', () => {
  const g = args(new Generator(5), 2, 3, 5, false, 0);
  const c = g.c.slice();
  jsBackend.gemmBf16({ ...g, c });
  const bf = (x: number) => {
    const h = f32ToBf16(Float32Array.of(x))[0];
    return new Float32Array(new Uint32Array([h << 16]).buffer)[0];
  };
  const wide = (h: number) => new Float32Array(new Uint32Array([h << 16]).buffer)[0];
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let p = 0; p < 5; p++) s += bf(g.a[2 + i * g.lda + p]) * wide(g.b[1 + p * g.ldb + j]);
      assert.ok(Math.abs(c[4 + i * g.ldc + j] - 0.75 * s) < 1e-6, `c[${i},${j}]`);
    }
});
