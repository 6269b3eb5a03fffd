import { emptyF32 } from '../storage.js';
import { getBackend } from '../../backend/index.js';
import { ShapeError, formatShape } from '../../errors.js';
import { record } from '../autograd.js';
import { normalizeAxis, sameShape, sizeOf, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { div, eq, mul, requireFloat } from './elementwise.js';
import { expand, reshape } from './movement.js';

function normalizeAxes(op: string, axes: number | number[] | undefined, ndim: number): number[] {
  if (axes === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = (typeof axes === 'number' ? [axes] : axes).map((a) => normalizeAxis(op, a, ndim));
  return [...new Set(list)].sort((a, b) => a - b);
}

function keptShape(shape: Shape, axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** Groups sorted axes into runs of adjacent ones: [0, 1, 3] -> [[0, 1], [3, 3]]. */
function axisRuns(axes: number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const a of axes) {
    const last = runs[runs.length - 1];
    if (last && last[1] === a - 1) last[1] = a;
    else runs.push([a, a]);
  }
  return runs;
}

/** Reduces `axes` of x into a keepdim-shaped result; each run of adjacent axes is one kernel call. */
function reduceRaw(op: 'sum' | 'max', x: Tensor, axes: number[]): Tensor {
  let data = x.contiguousData();
  let shape = [...x.shape];
  for (const [first, last] of axisRuns(axes).reverse()) {
    const outer = sizeOf(shape.slice(0, first));
    const size = sizeOf(shape.slice(first, last + 1));
    const inner = sizeOf(shape.slice(last + 1));
    const out = emptyF32(outer * inner);
    getBackend().reduce(op, out, data, outer, size, inner);
    data = out;
    shape = shape.map((d, k) => (k >= first && k <= last ? 1 : d));
  }
  return new Tensor(data, shape);
}

function finish(kept: Tensor, shape: Shape, axes: number[], keepdim: boolean): Tensor {
  return keepdim
    ? kept
    : reshape(
        kept,
        shape.filter((_, i) => !axes.includes(i)),
      );
}

export function sum(x: Tensor, axes?: number | number[], keepdim = false): Tensor {
  requireFloat('sum', x);
  const ax = normalizeAxes('sum', axes, x.ndim);
  const out = finish(reduceRaw('sum', x, ax), x.shape, ax, keepdim);
  return record(out, 'sum', [x], (g) => [expand(reshape(g, keptShape(x.shape, ax)), x.shape)]);
}

export function mean(x: Tensor, axes?: number | number[], keepdim = false): Tensor {
  const ax = normalizeAxes('mean', axes, x.ndim);
  const count = ax.reduce((n, a) => n * x.shape[a], 1);
  return div(sum(x, ax, keepdim), count);
}

/** Maximum over axes; the gradient is shared equally among tied maxima. */
export function max(x: Tensor, axes?: number | number[], keepdim = false): Tensor {
  requireFloat('max', x);
  const ax = normalizeAxes('max', axes, x.ndim);
  if (ax.some((a) => x.shape[a] === 0)) throw new ShapeError(`[max] cannot reduce an empty axis of shape ${formatShape(x.shape)}.`, 'Reduce over non-empty axes.');
  const kept = reduceRaw('max', x, ax);
  return record(finish(kept, x.shape, ax, keepdim), 'max', [x], (g) => {
    const isMax = eq(x, kept);
    const ties = reduceRaw('sum', isMax, ax);
    return [mul(isMax, div(reshape(g, kept.shape), ties))];
  });
}

/** Sums a broadcast gradient back to `shape`: leading dims and dims that were 1. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let d = 0; d < g.ndim; d++) if (d < lead || (shape[d - lead] === 1 && g.shape[d] !== 1)) axes.push(d);
  return reshape(reduceRaw('sum', g, axes), shape);
}
