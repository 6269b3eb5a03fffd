import type { Strided } from '../backend.js';

/**
 * Calls visit(outIndex, offsets...) for every element of `shape` in row-major order, with
 * each operand's offset computed from its strides. The reference backend's one loop.
 */
export function forEachStrided(shape: readonly number[], operands: readonly Strided[], visit: (i: number, offsets: Int32Array | number[]) => void): void {
  const ndim = shape.length;
  const count = shape.reduce((a, b) => a * b, 1);
  if (count === 0) return;
  const index = new Array<number>(ndim).fill(0);
  const offsets = operands.map((o) => o.offset);
  for (let i = 0; i < count; i++) {
    visit(i, offsets);
    for (let d = ndim - 1; d >= 0; d--) {
      index[d]++;
      for (let o = 0; o < operands.length; o++) offsets[o] += operands[o].strides[d];
      if (index[d] < shape[d]) break;
      for (let o = 0; o < operands.length; o++) offsets[o] -= operands[o].strides[d] * shape[d];
      index[d] = 0;
    }
  }
}
