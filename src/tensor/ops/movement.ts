import { emptyF32 } from '../storage.js';
import { getBackend } from '../../backend/index.js';
import { ArgumentError, formatShape, ShapeError } from '../../errors.js';
import { record } from '../autograd.js';
import { broadcastShapes, broadcastStrides, collapseDims, contiguousStrides, normalizeAxis, sameShape, sizeOf, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { sumTo } from './reduce.js';

function view(x: Tensor, shape: Shape, strides: readonly number[], offset: number): Tensor {
  return new Tensor(x.data, shape, { strides, offset, dtype: x.dtype });
}

/** Copies src into dst's (shape, strides, offset) window in place, no graph: for caches and views being filled. */
export function copyInto(dst: Tensor, src: Tensor): void {
  if (!sameShape(dst.shape, src.shape)) throw new ShapeError(`[copyInto] source ${formatShape(src.shape)} does not fit destination ${formatShape(dst.shape)}.`, 'Copy between equal shapes.');
  const c = collapseDims(src.shape, [dst.strides, src.strides]);
  getBackend().copy({ data: dst.data as Float32Array, offset: dst.offset, strides: c.strides[0] }, { data: src.data as Float32Array, offset: src.offset, strides: c.strides[1] }, c.shape);
}

/** int32 tensors (ids) are small: a plain loop copies them. */
function contiguousInt(x: Tensor): Tensor {
  const out = new Int32Array(x.size);
  const index = new Array<number>(x.ndim).fill(0);
  for (let i = 0; i < out.length; i++) {
    let off = x.offset;
    for (let d = 0; d < x.ndim; d++) off += index[d] * x.strides[d];
    out[i] = x.data[off];
    for (let d = x.ndim - 1; d >= 0 && ++index[d] === x.shape[d]; d--) index[d] = 0;
  }
  return new Tensor(out, x.shape);
}

/** A tensor with the same values laid out row-major from offset 0 (x itself when it already is). */
export function contiguous(x: Tensor): Tensor {
  if (x.isContiguous()) return x;
  if (x.dtype === 'int32') return contiguousInt(x);
  const out = new Tensor(emptyF32(x.size), x.shape);
  copyInto(out, x);
  return record(out, 'contiguous', [x], (g) => [g]);
}

export function reshape(x: Tensor, shape: Shape): Tensor {
  const inferred = shape.indexOf(-1);
  const target = [...shape];
  if (inferred >= 0) {
    const known = sizeOf(shape.filter((_, i) => i !== inferred));
    if (known === 0 || x.size % known !== 0)
      throw new ShapeError(`[reshape] cannot infer -1 reshaping ${formatShape(x.shape)} to ${formatShape(shape)}.`, 'The other dimensions must divide the element count.');
    target[inferred] = x.size / known;
  }
  if (sizeOf(target) !== x.size) {
    throw new ShapeError(`[reshape] cannot reshape ${formatShape(x.shape)} (${x.size} elements) to ${formatShape(shape)} (${sizeOf(target)}).`, 'The element count must stay the same.');
  }
  // Adding or dropping size-1 dims never needs a copy, even on a strided view.
  const kept = x.shape.map((d, i) => [d, x.strides[i]]).filter(([d]) => d !== 1);
  if (
    !x.isContiguous() &&
    sameShape(
      kept.map(([d]) => d),
      target.filter((d) => d !== 1),
    )
  ) {
    let k = 0;
    const strides = target.map((d) => (d === 1 ? 0 : kept[k++][1]));
    return record(view(x, target, strides, x.offset), 'reshape', [x], (g) => [reshape(g, x.shape)]);
  }
  const base = contiguous(x);
  return record(view(base, target, contiguousStrides(target), base.offset), 'reshape', [base], (g) => [reshape(g, x.shape)]);
}

export function permute(x: Tensor, axes: readonly number[]): Tensor {
  const ax = axes.map((a) => normalizeAxis('permute', a, x.ndim));
  if (ax.length !== x.ndim || new Set(ax).size !== ax.length) {
    throw new ArgumentError(`[permute] axes [${axes.join(', ')}] are not a permutation of ${x.ndim} dimensions.`, 'List every axis exactly once.');
  }
  const inverse = new Array<number>(ax.length);
  ax.forEach((a, i) => {
    inverse[a] = i;
  });
  const out = view(
    x,
    ax.map((a) => x.shape[a]),
    ax.map((a) => x.strides[a]),
    x.offset,
  );
  return record(out, 'permute', [x], (g) => [permute(g, inverse)]);
}

export function transpose(x: Tensor, a: number, b: number): Tensor {
  const axes = Array.from({ length: x.ndim }, (_, i) => i);
  const i = normalizeAxis('transpose', a, x.ndim),
    j = normalizeAxis('transpose', b, x.ndim);
  [axes[i], axes[j]] = [axes[j], axes[i]];
  return permute(x, axes);
}

/** The view x[..., start:start+length, ...] along `axis`. */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const ax = normalizeAxis('narrow', axis, x.ndim);
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > x.shape[ax]) {
    throw new ArgumentError(
      `[narrow] range [${start}, ${start + length}) is outside axis ${ax} of size ${x.shape[ax]} (shape ${formatShape(x.shape)}).`,
      'Pass 0 <= start and start + length <= the axis size.',
    );
  }
  const shape = x.shape.map((d, i) => (i === ax ? length : d));
  const out = view(x, shape, x.strides, x.offset + start * x.strides[ax]);
  return record(out, 'narrow', [x], (g) => {
    const gx = Tensor.zeros(x.shape);
    copyInto(view(gx, shape, gx.strides, start * gx.strides[ax]), g);
    return [gx];
  });
}

export function split(x: Tensor, sizes: number | readonly number[], axis = -1): Tensor[] {
  const ax = normalizeAxis('split', axis, x.ndim);
  const total = x.shape[ax];
  const parts = typeof sizes === 'number' ? Array.from({ length: Math.ceil(total / sizes) }, (_, i) => Math.min(sizes, total - i * sizes)) : [...sizes];
  if (parts.reduce((a, b) => a + b, 0) !== total) {
    throw new ShapeError(`[split] sizes [${parts.join(', ')}] do not add up to axis ${ax} of size ${total}.`, 'Pass sizes that sum to the axis size.');
  }
  let start = 0;
  return parts.map((n) => {
    const t = narrow(x, ax, start, n);
    start += n;
    return t;
  });
}

export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new ArgumentError('[concat] needs at least one tensor.', 'Pass a non-empty list.');
  const first = tensors[0];
  const ax = normalizeAxis('concat', axis, first.ndim);
  for (const t of tensors) {
    if (t.ndim !== first.ndim || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new ShapeError(`[concat] shapes ${tensors.map((u) => formatShape(u.shape)).join(', ')} differ outside axis ${ax}.`, 'All dimensions but the concatenation axis must match.');
    }
  }
  const shape = first.shape.map((d, i) => (i === ax ? tensors.reduce((n, t) => n + t.shape[ax], 0) : d));
  const out = Tensor.zeros(shape);
  let start = 0;
  const starts = tensors.map((t) => {
    copyInto(view(out, t.shape, out.strides, start * out.strides[ax]), t);
    start += t.shape[ax];
    return start - t.shape[ax];
  });
  return record(out, 'concat', tensors, (g) => tensors.map((t, i) => narrow(g, ax, starts[i], t.shape[ax])));
}

/** A broadcast view of x at `shape` (stride 0 on expanded dims). */
export function expand(x: Tensor, shape: Shape): Tensor {
  const target = broadcastShapes('expand', x.shape, shape);
  if (!sameShape(target, shape)) throw new ShapeError(`[expand] cannot expand ${formatShape(x.shape)} to ${formatShape(shape)}.`, 'Only dimensions of size 1 can grow.');
  const out = view(x, shape, broadcastStrides(x.shape, x.strides, shape), x.offset);
  return record(out, 'expand', [x], (g) => [sumTo(g, x.shape)]);
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const ax = normalizeAxis('unsqueeze', axis, x.ndim + 1);
  const shape = [...x.shape.slice(0, ax), 1, ...x.shape.slice(ax)];
  const strides = [...x.strides.slice(0, ax), 0, ...x.strides.slice(ax)];
  return record(view(x, shape, strides, x.offset), 'unsqueeze', [x], (g) => [reshape(g, x.shape)]);
}
