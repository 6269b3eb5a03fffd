/**
 * An uninitialised float32 buffer, for op outputs that the kernel overwrites in full.
 * Large typed arrays from `new Float32Array(n)` are zero-filled first, which costs ~10% of
 * a GPT-2-sized GEMM; Buffer.allocUnsafeSlow skips the fill. Small ones stay ordinary.
 */
export function emptyF32(n: number): Float32Array {
  if (n < 16384) return new Float32Array(n);
  const bytes = Buffer.allocUnsafeSlow(n * 4);
  return new Float32Array(bytes.buffer, bytes.byteOffset, n);
}
