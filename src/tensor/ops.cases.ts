/**
 * One list of op cases, shared by the finite-difference gradient checks (ops.test.ts) and
 * the native-vs-js agreement checks (backend/backend.test.ts). Inputs avoid the kinks of
 * relu/abs/clamp/max so that finite differences are meaningful.
 */
import { Generator } from './random.js';
import { Tensor } from './tensor.js';
import * as T from './index.js';

export interface OpCase {
  name: string;
  /** Builds the inputs; every float input requires grad unless listed in `constant`. */
  inputs: (gen: Generator) => Tensor[];
  fn: (...xs: Tensor[]) => Tensor;
  constant?: number[];
  /** Too big for finite differences: agreement checks only. */
  large?: boolean;
}

const randn = (gen: Generator, ...shape: number[]) => Tensor.randn(shape, gen);
const positive = (gen: Generator, ...shape: number[]) => Tensor.rand(shape, 0.5, 2, gen);
/** Values at least 0.2 away from 0, random sign. */
const awayFromZero = (gen: Generator, ...shape: number[]) => {
  const t = Tensor.rand(shape, 0.2, 1.5, gen);
  const d = t.data as Float32Array;
  for (let i = 0; i < d.length; i++) if (gen.uniform() < 0.5) d[i] = -d[i];
  return t;
};
/** Distinct values (a shuffled ramp) so that max has no near-ties. */
const distinct = (gen: Generator, ...shape: number[]) => {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.1);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(gen.uniform() * (i + 1));
    [values[i], values[j]] = [values[j], values[i]];
  }
  return Tensor.from(values, shape);
};
/** Batches of n x n matrices I + 0.3 N(0, 1): well conditioned, for inverse. */
const nearIdentity = (gen: Generator, batch: number, n: number) => {
  const t = Tensor.randn([batch, n, n], gen);
  const d = t.data as Float32Array;
  for (let i = 0; i < d.length; i++) d[i] = 0.3 * d[i] + (Math.floor(i / n) % n === i % n ? 1 : 0);
  return t;
};
const ids = (gen: Generator, vocab: number, ...shape: number[]) =>
  Tensor.from(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.floor(gen.uniform() * vocab)),
    shape,
    'int32',
  );
const causalMask = (t: number, s: number) => {
  const m = Tensor.zeros([t, s]);
  const d = m.data as Float32Array;
  for (let i = 0; i < t; i++) for (let j = 0; j < s; j++) if (j > i + s - t) d[i * s + j] = -1e9;
  return m;
};
const ropeTables = (t: number, d: number, theta = 10000) => {
  const cos = new Float32Array(t * d),
    sin = new Float32Array(t * d);
  for (let p = 0; p < t; p++)
    for (let j = 0; j < d; j++) {
      const freq = p / theta ** ((2 * (j % (d / 2))) / d);
      cos[p * d + j] = Math.cos(freq);
      sin[p * d + j] = Math.sin(freq);
    }
  return [new Tensor(cos, [t, d]), new Tensor(sin, [t, d])];
};

export const opCases: OpCase[] = [
  // elementwise, with broadcasting and scalar forms
  { name: 'add broadcast [2,3]+[3]', inputs: (g) => [randn(g, 2, 3), randn(g, 3)], fn: (a, b) => a.add(b) },
  { name: 'add broadcast [2,1,3]+[4,1]', inputs: (g) => [randn(g, 2, 1, 3), randn(g, 4, 1)], fn: (a, b) => a.add(b) },
  { name: 'sub broadcast and scalar', inputs: (g) => [randn(g, 3, 1), randn(g, 1, 4)], fn: (a, b) => a.sub(b).sub(0.5) },
  { name: 'mul broadcast', inputs: (g) => [randn(g, 2, 3, 4), randn(g, 3, 1)], fn: (a, b) => a.mul(b).mul(2) },
  { name: 'div broadcast', inputs: (g) => [randn(g, 2, 3), positive(g, 2, 1)], fn: (a, b) => a.div(b) },
  { name: 'scalar divided by tensor', inputs: (g) => [positive(g, 5)], fn: (a) => T.div(1, a) },
  { name: 'add on transposed view', inputs: (g) => [randn(g, 3, 4), randn(g, 4, 3)], fn: (a, b) => a.add(b.T) },
  { name: 'neg', inputs: (g) => [randn(g, 2, 3)], fn: (a) => a.neg() },
  { name: 'exp', inputs: (g) => [randn(g, 2, 3)], fn: (a) => a.exp() },
  { name: 'log', inputs: (g) => [positive(g, 2, 3)], fn: (a) => a.log() },
  { name: 'sqrt', inputs: (g) => [positive(g, 2, 3)], fn: (a) => a.sqrt() },
  { name: 'rsqrt', inputs: (g) => [positive(g, 2, 3)], fn: (a) => a.rsqrt() },
  { name: 'pow 3', inputs: (g) => [randn(g, 2, 3)], fn: (a) => a.pow(3) },
  { name: 'pow 0.5', inputs: (g) => [positive(g, 2, 3)], fn: (a) => a.pow(0.5) },
  { name: 'abs', inputs: (g) => [awayFromZero(g, 2, 3)], fn: (a) => a.abs() },
  { name: 'clamp', inputs: () => [Tensor.from([-2, -0.3, 0.1, 0.4, 1.7, -0.9], [2, 3])], fn: (a) => a.clamp(-0.5, 0.5) },
  { name: 'tanh', inputs: (g) => [randn(g, 2, 3)], fn: (a) => a.tanh() },
  { name: 'sigmoid', inputs: (g) => [randn(g, 2, 3)], fn: (a) => a.sigmoid() },
  { name: 'relu', inputs: (g) => [awayFromZero(g, 2, 3)], fn: (a) => a.relu() },
  { name: 'gelu erf', inputs: (g) => [randn(g, 2, 4)], fn: (a) => a.gelu() },
  { name: 'gelu tanh', inputs: (g) => [randn(g, 2, 4)], fn: (a) => a.gelu('tanh') },
  { name: 'silu', inputs: (g) => [randn(g, 2, 4)], fn: (a) => a.silu() },
  { name: 'where', inputs: (g) => [Tensor.from([1, 0, 1, 0, 0, 1], [2, 3]), randn(g, 2, 3), randn(g, 3)], fn: (c, a, b) => T.where(c, a, b), constant: [0] },
  { name: 'maskedFill', inputs: (g) => [randn(g, 2, 3), Tensor.from([0, 1, 0], [3])], fn: (a, m) => a.maskedFill(m, -5), constant: [1] },
  { name: 'dropout p=0.3', inputs: (g) => [randn(g, 4, 5)], fn: (a) => T.dropout(a, 0.3, { generator: new Generator(7) }) },
  // reductions
  { name: 'sum all', inputs: (g) => [randn(g, 2, 3, 4)], fn: (a) => a.sum() },
  { name: 'sum axes [0,2] keepdim', inputs: (g) => [randn(g, 2, 3, 4)], fn: (a) => a.sum([0, 2], true) },
  { name: 'sum axis -1', inputs: (g) => [randn(g, 2, 3, 4)], fn: (a) => a.sum(-1) },
  { name: 'mean axis 1', inputs: (g) => [randn(g, 2, 3, 4)], fn: (a) => a.mean(1) },
  { name: 'max axis 1', inputs: (g) => [distinct(g, 2, 3, 4)], fn: (a) => a.max(1) },
  { name: 'max all keepdim', inputs: (g) => [distinct(g, 3, 4)], fn: (a) => a.max(undefined, true) },
  // movement
  { name: 'reshape', inputs: (g) => [randn(g, 2, 6)], fn: (a) => a.reshape([3, -1]).mul(Tensor.arange(4)) },
  { name: 'permute then reshape (copy)', inputs: (g) => [randn(g, 2, 3, 4)], fn: (a) => a.permute([2, 0, 1]).reshape([4, 6]) },
  { name: 'transpose', inputs: (g) => [randn(g, 2, 3)], fn: (a) => a.transpose(0, 1).contiguous() },
  { name: 'narrow', inputs: (g) => [randn(g, 3, 5)], fn: (a) => a.narrow(1, 1, 3) },
  {
    name: 'split',
    inputs: (g) => [randn(g, 2, 6)],
    fn: (a) => {
      const [x, y] = a.split([2, 4], 1);
      return x.sum(1, true).mul(y);
    },
  },
  { name: 'concat', inputs: (g) => [randn(g, 2, 3), randn(g, 2, 1)], fn: (a, b) => T.concat([a, b, a], 1) },
  { name: 'expand', inputs: (g) => [randn(g, 3, 1)], fn: (a) => a.expand([2, 3, 4]).mul(Tensor.arange(4)) },
  { name: 'unsqueeze', inputs: (g) => [randn(g, 3)], fn: (a) => a.unsqueeze(0).add(Tensor.zeros([2, 3])) },
  // matmul: plain, transposed operands passed as views, batched with broadcasting, folded linear
  { name: 'matmul', inputs: (g) => [randn(g, 3, 4), randn(g, 4, 5)], fn: (a, b) => a.matmul(b) },
  { name: 'matmul a @ b^T', inputs: (g) => [randn(g, 3, 4), randn(g, 5, 4)], fn: (a, b) => a.matmul(b.T) },
  { name: 'matmul a^T @ b', inputs: (g) => [randn(g, 4, 3), randn(g, 4, 5)], fn: (a, b) => a.T.matmul(b) },
  { name: 'matmul batched broadcast', inputs: (g) => [randn(g, 2, 1, 3, 4), randn(g, 3, 4, 2)], fn: (a, b) => a.matmul(b) },
  { name: 'matmul batched x shared weight^T (linear)', inputs: (g) => [randn(g, 2, 3, 4), randn(g, 5, 4)], fn: (a, w) => a.matmul(w.T) },
  { name: 'matmul shared x batched', inputs: (g) => [randn(g, 3, 4), randn(g, 2, 4, 2)], fn: (a, b) => a.matmul(b) },
  { name: 'inverse batched', inputs: (g) => [nearIdentity(g, 2, 3)], fn: (a) => T.inverse(a) },
  { name: 'linear with bias', inputs: (g) => [randn(g, 2, 3, 4), randn(g, 5, 4), randn(g, 5)], fn: (x, w, b) => T.linear(x, w, b) },
  {
    name: 'loraLinear, adapter reads x itself',
    inputs: (g) => [randn(g, 2, 3, 4), randn(g, 5, 4), randn(g, 5), randn(g, 2, 4), randn(g, 5, 2)],
    fn: (x, w, b, a, bb) => T.loraLinear(x, w, b, x, a, bb, 0.7),
  },
  {
    name: 'loraLinear on a Conv1D weight, adapter reads a function of x (as after dropout)',
    inputs: (g) => [randn(g, 3, 4), randn(g, 4, 5), randn(g, 3, 4), randn(g, 5, 3)],
    fn: (x, w, a, bb) => T.loraLinear(x, w.T, null, x.mul(1.5), a, bb, 2),
  },
  { name: 'linear on a transposed [in, out] weight (Conv1D)', inputs: (g) => [randn(g, 3, 4), randn(g, 4, 5)], fn: (x, w) => T.linear(x, w.T) },
  { name: 'reshape squeezing a strided view', inputs: (g) => [randn(g, 2, 3, 4)], fn: (x) => x.reshape([2, 3, 2, 2]).permute([2, 0, 1, 3]).narrow(0, 1, 1).reshape([2, 3, 2]) },
  // fused ops
  { name: 'softmax', inputs: (g) => [randn(g, 3, 5)], fn: (a) => a.softmax() },
  { name: 'softmax axis 0', inputs: (g) => [randn(g, 3, 5)], fn: (a) => a.softmax(0) },
  { name: 'logSoftmax', inputs: (g) => [randn(g, 3, 5)], fn: (a) => a.logSoftmax() },
  { name: 'crossEntropy mean with ignore', inputs: (g) => [randn(g, 2, 3, 7), Tensor.from([1, 6, -100, 0, 3, 2], [2, 3], 'int32')], fn: (l, t) => T.crossEntropy(l, t) },
  { name: 'crossEntropy sum', inputs: (g) => [randn(g, 4, 7), Tensor.from([1, 6, 5, 0], [4], 'int32')], fn: (l, t) => T.crossEntropy(l, t, { reduction: 'sum' }) },
  {
    name: 'linearCrossEntropy mean, chunks of 3 rows',
    inputs: (g) => [randn(g, 2, 5, 6), randn(g, 7, 6), Tensor.from([1, 6, -100, 0, 3, 2, 5, 4, -100, 1], [2, 5], 'int32')],
    fn: (h, w, t) => T.linearCrossEntropy(h, w, t, { chunkRows: 3 }),
  },
  {
    name: 'linearCrossEntropy sum, one chunk',
    inputs: (g) => [randn(g, 4, 6), randn(g, 9, 6), Tensor.from([8, 0, 3, 3], [4], 'int32')],
    fn: (h, w, t) => T.linearCrossEntropy(h, w, t, { reduction: 'sum' }),
  },
  { name: 'crossEntropy none', inputs: (g) => [randn(g, 4, 7), Tensor.from([1, -100, 5, 0], [4], 'int32')], fn: (l, t) => T.crossEntropy(l, t, { reduction: 'none' }) },
  { name: 'layerNorm', inputs: (g) => [randn(g, 3, 6), randn(g, 6), randn(g, 6)], fn: (x, w, b) => T.layerNorm(x, w, b) },
  { name: 'layerNorm without affine', inputs: (g) => [randn(g, 2, 2, 5)], fn: (x) => T.layerNorm(x, null, null) },
  { name: 'rmsNorm', inputs: (g) => [randn(g, 3, 6), randn(g, 6)], fn: (x, w) => T.rmsNorm(x, w) },
  { name: 'embedding', inputs: (g) => [randn(g, 7, 4), Tensor.from([1, 3, 3, 0, 6, 1], [2, 3], 'int32')], fn: (w, i) => T.embedding(w, i) },
  { name: 'attention causal', inputs: (g) => [randn(g, 2, 2, 4, 3), randn(g, 2, 2, 4, 3), randn(g, 2, 2, 4, 3)], fn: (q, k, v) => T.scaledDotProductAttention(q, k, v, { causal: true }) },
  {
    name: 'attention GQA with additive mask',
    inputs: (g) => [randn(g, 1, 4, 3, 4), randn(g, 1, 2, 3, 4), randn(g, 1, 2, 3, 4), causalMask(3, 3)],
    fn: (q, k, v, m) => T.scaledDotProductAttention(q, k, v, { mask: m }),
    constant: [3],
  },
  {
    name: 'attention causal, queries shorter than keys',
    inputs: (g) => [randn(g, 1, 2, 2, 4), randn(g, 1, 2, 5, 4), randn(g, 1, 2, 5, 4)],
    fn: (q, k, v) => T.scaledDotProductAttention(q, k, v, { causal: true, scale: 0.3 }),
  },
  {
    name: 'attention on permuted views',
    inputs: (g) => [randn(g, 2, 3, 2, 4)],
    fn: (x) => {
      const v = x.permute([0, 2, 1, 3]);
      return T.scaledDotProductAttention(v, v, v, { causal: true });
    },
  },
  { name: 'rope', inputs: (g) => [randn(g, 2, 2, 3, 4), ...ropeTables(3, 4)], fn: (x, c, s) => T.rope(x, c, s), constant: [1, 2] },
  // large shapes exercise the native threading and blocking paths
  {
    name: 'large loraLinear',
    large: true,
    inputs: (g) => [randn(g, 4, 64, 96), randn(g, 80, 96), randn(g, 80), randn(g, 8, 96), randn(g, 80, 8)],
    fn: (x, w, b, a, bb) => T.loraLinear(x, w, b, x, a, bb, 0.5),
  },
  { name: 'large unary gelu', large: true, inputs: (g) => [randn(g, 300, 257)], fn: (a) => a.gelu() },
  { name: 'large broadcast add', large: true, inputs: (g) => [randn(g, 300, 257), randn(g, 257)], fn: (a, b) => a.add(b).mul(b) },
  { name: 'large sum over rows', large: true, inputs: (g) => [randn(g, 512, 300)], fn: (a) => a.sum(0) },
  { name: 'large matmul linear', large: true, inputs: (g) => [randn(g, 4, 64, 96), randn(g, 80, 96)], fn: (a, w) => a.matmul(w.T) },
  { name: 'large linear', large: true, inputs: (g) => [randn(g, 4, 64, 96), randn(g, 80, 96), randn(g, 80)], fn: (x, w, b) => T.linear(x, w, b) },
  { name: 'large softmax', large: true, inputs: (g) => [randn(g, 64, 5000)], fn: (a) => a.softmax() },
  { name: 'large crossEntropy', large: true, inputs: (g) => [randn(g, 64, 5000), ids(g, 5000, 64)], fn: (l, t) => T.crossEntropy(l, t) },
  { name: 'large layerNorm', large: true, inputs: (g) => [randn(g, 256, 768), randn(g, 768), randn(g, 768)], fn: (x, w, b) => T.layerNorm(x, w, b) },
  { name: 'large rmsNorm', large: true, inputs: (g) => [randn(g, 256, 768), randn(g, 768)], fn: (x, w) => T.rmsNorm(x, w) },
  { name: 'large embedding', large: true, inputs: (g) => [randn(g, 500, 64), ids(g, 500, 2000)], fn: (w, i) => T.embedding(w, i) },
  {
    name: 'large attention GQA causal',
    large: true,
    inputs: (g) => [randn(g, 2, 4, 64, 32), randn(g, 2, 2, 64, 32), randn(g, 2, 2, 64, 32)],
    fn: (q, k, v) => T.scaledDotProductAttention(q, k, v, { causal: true }),
  },
  {
    // Decoding shapes (a few queries against a long cache): the native loop path, threaded over heads.
    name: 'large attention decode GQA causal, three queries',
    large: true,
    inputs: (g) => [randn(g, 2, 4, 3, 32), randn(g, 2, 2, 600, 32), randn(g, 2, 2, 600, 32)],
    fn: (q, k, v) => T.scaledDotProductAttention(q, k, v, { causal: true }),
  },
  {
    name: 'large attention decode with additive mask, one query',
    large: true,
    inputs: (g) => [randn(g, 3, 4, 1, 40), randn(g, 3, 4, 700, 40), randn(g, 3, 4, 700, 40), randn(g, 3, 1, 1, 700)],
    fn: (q, k, v, m) => T.scaledDotProductAttention(q, k, v, { mask: m }),
    constant: [3],
  },
  { name: 'large dropout', large: true, inputs: (g) => [randn(g, 300, 257)], fn: (a) => T.dropout(a, 0.1, { generator: new Generator(3) }) },
];

/** Marks float inputs as requiring grad, except those listed as constant. */
export function prepareInputs(c: OpCase, gen: Generator): Tensor[] {
  return c.inputs(gen).map((t, i) => {
    if (t.dtype === 'float32' && !(c.constant ?? []).includes(i)) t.requiresGrad = true;
    return t;
  });
}
