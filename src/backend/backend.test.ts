import { test } from 'node:test';
import { assertClose, nativeAvailable } from '../../test/helpers.js';
import { opCases, prepareInputs } from '../tensor/ops.cases.js';
import { Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { createBackend, setBackend, type Backend } from './index.js';

/**
 * native must agree with the js reference on every op, forward and backward:
 * |native - js| <= 1e-5 * max(1, max|js|) elementwise (float32 vs float64 accumulation).
 */
const RTOL = 1e-5;

function run(backend: Backend, c: (typeof opCases)[number]) {
  setBackend(backend);
  const inputs = prepareInputs(c, new Generator(7));
  const out = c.fn(...inputs);
  const gen = new Generator(99);
  out.backward(Tensor.randn(out.shape, gen));
  return { out: Array.from(out.contiguousData()), grads: inputs.map((x) => (x.grad ? Array.from(x.grad.contiguousData()) : [])) };
}

function scaleOf(values: number[]): number {
  return values.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
}

const skip = nativeAvailable() ? false : 'native addon not built (apt-get install libopenblas-dev, then npm rebuild)';
for (const c of opCases) {
  test(`native agrees with js: ${c.name}`, { skip }, () => {
    const ref = run(createBackend('js'), c);
    const got = run(createBackend('native'), c);
    assertClose(got.out, ref.out, RTOL * scaleOf(ref.out), 0, `${c.name} forward`);
    ref.grads.forEach((g, i) => assertClose(got.grads[i], g, RTOL * scaleOf(g), 0, `${c.name} grad of input ${i}`));
  });
}
