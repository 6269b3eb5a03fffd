import { emptyF32 } from '../storage.js';
import { getBackend } from '../../backend/index.js';
import { ArgumentError, formatShape, ShapeError } from '../../errors.js';
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { requireFloat } from './elementwise.js';

/** Rows of weight [V, D] picked by int32 ids [...] -> [..., D]; backward scatter-adds. */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  requireFloat('embedding', weight);
  if (weight.ndim !== 2) throw new ShapeError(`[embedding] weight must be [vocab, dim], got ${formatShape(weight.shape)}.`, 'Pass a 2-D table.');
  const [vocab, dim] = weight.shape;
  const idx = ids.int32Data();
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] < 0 || idx[i] >= vocab) throw new ArgumentError(`[embedding] id ${idx[i]} at position ${i} is outside the vocabulary [0, ${vocab}).`, 'Check the tokenizer matches the model, or the padding id.');
  }
  const out = emptyF32(idx.length * dim);
  getBackend().embedding(out, weight.contiguousData(), idx, dim);
  return record(new Tensor(out, [...ids.shape, dim]), 'embedding', [weight], (g) => {
    const gw = new Float32Array(vocab * dim);
    getBackend().embeddingBackward(gw, g.contiguousData(), idx, dim);
    return [new Tensor(gw, weight.shape)];
  });
}
