import { emptyF32 } from '../storage.js';
import { getBackend } from '../../backend/index.js';
import { bf16ToF32 } from '../../dtype.js';
import { ArgumentError, DTypeError, formatShape, ShapeError } from '../../errors.js';
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { requireFloat } from './elementwise.js';

/** Rows of weight [V, D] picked by int32 ids [...] -> [..., D]; backward scatter-adds. */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  if (weight.dtype === 'bfloat16' && weight.requiresGrad)
    throw new DTypeError('[embedding] a bfloat16 table cannot require grad: peft-ts keeps trainable parameters in float32.', 'Train a float32 copy (tensor.float()), or freeze it.');
  if (weight.dtype !== 'bfloat16') requireFloat('embedding', weight);
  if (weight.ndim !== 2) throw new ShapeError(`[embedding] weight must be [vocab, dim], got ${formatShape(weight.shape)}.`, 'Pass a 2-D table.');
  const [vocab, dim] = weight.shape;
  const idx = ids.int32Data();
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] < 0 || idx[i] >= vocab)
      throw new ArgumentError(`[embedding] id ${idx[i]} at position ${i} is outside the vocabulary [0, ${vocab}).`, 'Check the tokenizer matches the model, or the padding id.');
  }
  const out = emptyF32(idx.length * dim);
  if (weight.dtype === 'bfloat16') {
    // Frozen bfloat16 table: widen just the rows asked for.
    const table = weight.halfData();
    for (let i = 0; i < idx.length; i++) bf16ToF32(table.subarray(idx[i] * dim, (idx[i] + 1) * dim), out.subarray(i * dim, (i + 1) * dim));
    return new Tensor(out, [...ids.shape, dim]);
  }
  getBackend().embedding(out, weight.contiguousData(), idx, dim);
  return record(new Tensor(out, [...ids.shape, dim]), 'embedding', [weight], (g) => {
    const gw = new Float32Array(vocab * dim);
    getBackend().embeddingBackward(gw, g.contiguousData(), idx, dim);
    return [new Tensor(gw, weight.shape)];
  });
}
