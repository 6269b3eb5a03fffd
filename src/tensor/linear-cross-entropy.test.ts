import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose, availableBackends } from '../../test/helpers.js';
import { setBackend } from '../backend/index.js';
import { crossEntropy, Generator, linear, linearCrossEntropy, noGrad, Tensor } from './index.js';

/** The chunked op against crossEntropy(linear(...)) that holds the logits whole: loss and both gradients. */
for (const backend of availableBackends()) {
  for (const [label, bf16] of [
    ['float32', false],
    ['bfloat16 (frozen)', true],
  ] as const) {
    test(`[${backend.name}] linearCrossEntropy equals crossEntropy(linear) for a ${label} weight, in any chunking`, () => {
      setBackend(backend);
      const gen = new Generator(5);
      const hidden = Tensor.randn([3, 7, 16], gen);
      const w32 = Tensor.randn([50, 16], gen).mul(0.3);
      const weight = bf16 ? w32.bfloat16() : w32;
      const targets = Tensor.from(
        Array.from({ length: 21 }, (_, i) => (i % 5 === 4 ? -100 : (i * 7) % 50)),
        [3, 7],
        'int32',
      );
      const reference = (h: Tensor, w: Tensor) => crossEntropy(linear(h, w), targets);
      const h0 = hidden.detach();
      h0.requiresGrad = true;
      const w0 = weight.detach();
      w0.requiresGrad = !bf16;
      const expected = reference(h0, w0);
      expected.mul(2).backward();
      for (const chunkRows of [1, 4, 21, 100]) {
        const h = hidden.detach();
        h.requiresGrad = true;
        const w = weight.detach();
        w.requiresGrad = !bf16;
        const got = linearCrossEntropy(h, w, targets, { chunkRows });
        assert.ok(Math.abs(got.item() - expected.item()) < 1e-5 * Math.max(1, Math.abs(expected.item())), `loss chunk ${chunkRows}`);
        got.mul(2).backward();
        assertClose(h.grad!.contiguousData(), h0.grad!.contiguousData(), 1e-6, 1e-4, `d hidden chunk ${chunkRows}`);
        if (!bf16) assertClose(w.grad!.contiguousData(), w0.grad!.contiguousData(), 1e-6, 1e-4, `d weight chunk ${chunkRows}`);
      }
      assert.equal(
        noGrad(() => linearCrossEntropy(hidden, weight, targets, { reduction: 'sum' }))
          .item()
          .toFixed(3),
        noGrad(() => crossEntropy(linear(hidden, weight), targets, { reduction: 'sum' }))
          .item()
          .toFixed(3),
      );
    });
  }
}

test('linearCrossEntropy refuses per-row losses and targets that do not fit', () => {
  const h = Tensor.zeros([2, 4]),
    w = Tensor.zeros([5, 4]);
  assert.throws(() => linearCrossEntropy(h, w, Tensor.from([0, 1], [2], 'int32'), { reduction: 'none' }), /reduction 'none'/);
  assert.throws(() => linearCrossEntropy(h, w, Tensor.from([0, 5], [2], 'int32')), /target 5 .* outside \[0, 5\)/);
  assert.throws(() => linearCrossEntropy(h, w, Tensor.from([0, 1, 2], [3], 'int32')), /do not match/);
});
