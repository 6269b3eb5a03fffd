import { ArgumentError, formatShape, ShapeError } from '../errors.js';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** NumPy broadcasting: align from the right; each pair of sizes must match or be 1. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const ndim = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(ndim).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const d = ndim - s.length + i;
      if (s[i] === out[d] || s[i] === 1) continue;
      if (out[d] !== 1) {
        throw new ShapeError(
          `[${op}] shapes ${shapes.map(formatShape).join(' and ')} cannot be broadcast together (dimension ${d}: ${out[d]} vs ${s[i]}).`,
          'Sizes must match or be 1 in every dimension, counted from the right; reshape or unsqueeze an operand.',
        );
      }
      out[d] = s[i];
    }
  }
  return out;
}

/** Strides that read a tensor of (shape, strides) as if it had outShape: 0 on broadcast dims. */
export function broadcastStrides(shape: Shape, strides: Shape, outShape: Shape): number[] {
  const lead = outShape.length - shape.length;
  return outShape.map((_, i) => (i < lead || shape[i - lead] === 1 ? 0 : strides[i - lead]));
}

export function normalizeAxis(op: string, axis: number, ndim: number): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= Math.max(ndim, 1)) {
    throw new ArgumentError(`[${op}] axis ${axis} is out of range for a tensor with ${ndim} dimension${ndim === 1 ? '' : 's'}.`, `Use an axis in [${-ndim}, ${ndim - 1}].`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/**
 * Merges adjacent dimensions that every operand walks contiguously, so kernels loop over as
 * few dimensions as possible (a broadcast add over [B,T,C] + [C] becomes [B*T, C]).
 */
export function collapseDims(shape: Shape, stridesList: Shape[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = stridesList.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && stridesList.every((s, o) => outStrides[o][last] === s[d] * shape[d])) {
      outShape[last] *= shape[d];
      stridesList.forEach((s, o) => {
        outStrides[o][last] = s[d];
      });
    } else {
      outShape.push(shape[d]);
      stridesList.forEach((s, o) => outStrides[o].push(s[d]));
    }
  }
  if (outShape.length === 0) return { shape: [1], strides: stridesList.map(() => [0]) };
  return { shape: outShape, strides: outStrides };
}
