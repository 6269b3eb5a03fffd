import { emptyF32 } from '../storage.js';
import { getBackend } from '../../backend/index.js';
import { ArgumentError, formatShape, ShapeError } from '../../errors.js';
import { record } from '../autograd.js';
import { normalizeAxis } from '../shape.js';
import { Tensor } from '../tensor.js';
import { requireFloat } from './elementwise.js';
import { transpose } from './movement.js';

function softmaxImpl(op: string, x: Tensor, axis: number, log: boolean): Tensor {
  requireFloat(op, x);
  const ax = normalizeAxis(op, axis, x.ndim);
  // The kernel works on rows: move the axis last and back again.
  if (ax !== x.ndim - 1) return transpose(softmaxImpl(op, transpose(x, ax, -1), -1, log), ax, -1);
  const cols = x.shape[ax] ?? 1;
  const rows = x.size / Math.max(cols, 1);
  const xd = x.contiguousData();
  const y = emptyF32(xd.length);
  getBackend().softmax(y, xd, rows, cols, log);
  return record(new Tensor(y, x.shape), op, [x], (g) => {
    const gx = emptyF32(y.length);
    getBackend().softmaxBackward(gx, y, g.contiguousData(), rows, cols, log);
    return [new Tensor(gx, x.shape)];
  });
}

export const softmax = (x: Tensor, axis = -1) => softmaxImpl('softmax', x, axis, false);
export const logSoftmax = (x: Tensor, axis = -1) => softmaxImpl('logSoftmax', x, axis, true);

export interface CrossEntropyOptions {
  /** Targets equal to this are left out of the loss and the mean (HF's -100). */
  ignoreIndex?: number;
  reduction?: 'mean' | 'sum' | 'none';
}

/** How many targets count (not ignoreIndex); throws on a class index outside [0, cols). */
export function countTargets(op: string, t: Int32Array, cols: number, ignoreIndex: number): number {
  let counted = 0;
  for (let i = 0; i < t.length; i++) {
    if (t[i] === ignoreIndex) continue;
    if (t[i] < 0 || t[i] >= cols)
      throw new ArgumentError(`[${op}] target ${t[i]} at position ${i} is outside [0, ${cols}).`, `Use class indices below ${cols}, or ${ignoreIndex} to ignore a position.`);
    counted++;
  }
  return counted;
}

/**
 * Fused log-softmax + negative log-likelihood over logits [..., V] and int32 targets [...].
 * 'mean' divides by the number of targets that are not ignored, as PyTorch does.
 */
export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  requireFloat('crossEntropy', logits);
  const ignoreIndex = options.ignoreIndex ?? -100;
  const reduction = options.reduction ?? 'mean';
  const cols = logits.shape[logits.ndim - 1];
  const rowShape = logits.shape.slice(0, -1);
  if (targets.ndim !== rowShape.length || targets.shape.some((d, i) => d !== rowShape[i])) {
    throw new ShapeError(
      `[crossEntropy] targets ${formatShape(targets.shape)} do not match logits ${formatShape(logits.shape)} without the class axis.`,
      'Targets hold one class index per row of logits.',
    );
  }
  const t = targets.int32Data();
  const counted = countTargets('crossEntropy', t, cols, ignoreIndex);
  const rows = t.length;
  const xd = logits.contiguousData();
  const loss = new Float32Array(rows),
    lse = new Float32Array(rows);
  getBackend().crossEntropy(loss, lse, xd, t, rows, cols, ignoreIndex);
  let out: Tensor;
  if (reduction === 'none') out = new Tensor(loss, rowShape);
  else {
    let total = 0;
    for (let i = 0; i < rows; i++) total += loss[i];
    out = Tensor.scalar(reduction === 'mean' ? (counted ? total / counted : NaN) : total);
  }
  return record(out, 'crossEntropy', [logits], (g) => {
    const rowScale = reduction === 'none' ? Float32Array.from(g.contiguousData()) : new Float32Array(rows).fill(g.item() / (reduction === 'mean' ? Math.max(counted, 1) : 1));
    const gx = emptyF32(xd.length);
    getBackend().crossEntropyBackward(gx, xd, lse, t, rowScale, rows, cols, ignoreIndex);
    return [new Tensor(gx, logits.shape)];
  });
}
