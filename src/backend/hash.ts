/**
 * Counter-based random bits: a murmur3-style mix of (seed, index). Dropout draws its mask
 * from it so that every backend, thread count and chunking gives the same mask; the C++
 * twin is `mix32` in native/kernels/elementwise.cc.
 */
export function mix32(seed: number, index: number): number {
  let h = (Math.imul(index, 0x9e3779b1) ^ seed) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** An element is dropped when its hash falls below this threshold. */
export function dropThreshold(p: number): number {
  return Math.min(Math.floor(p * 4294967296), 4294967295);
}
