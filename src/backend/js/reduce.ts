import type { F32 } from '../backend.js';

export function reduce(op: 'sum' | 'max', out: F32, x: F32, outer: number, size: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = op === 'sum' ? 0 : -Infinity;
      let base = o * size * inner + i;
      for (let r = 0; r < size; r++, base += inner) {
        const v = x[base];
        if (op === 'sum') acc += v;
        else if (v > acc || Number.isNaN(v)) acc = v;
      }
      out[o * inner + i] = acc;
    }
  }
}
