import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './dtype.js';

test('bfloat16 round-trips values it can hold and rounds to nearest even', () => {
  const exact = Float32Array.from([0, 1, -2, 0.5, 3.140625, -65536, Infinity, -Infinity]);
  assert.deepEqual(Array.from(bf16ToF32(f32ToBf16(exact))), Array.from(exact));
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1).
  assert.equal(bf16ToF32(f32ToBf16(Float32Array.of(1 + 2 ** -8)))[0], 1);
  assert.equal(bf16ToF32(f32ToBf16(Float32Array.of(1 + 3 * 2 ** -8)))[0], 1 + 2 ** -6);
  assert.ok(Number.isNaN(bf16ToF32(f32ToBf16(Float32Array.of(NaN)))[0]));
});

test('float16 decodes normals, subnormals and specials', () => {
  const bits = Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x7c00, 0xfc00, 0x8000]);
  assert.deepEqual(Array.from(f16ToF32(bits)), [1, -2, 65504, 2 ** -24, 2 ** -14, Infinity, -Infinity, -0]);
  assert.ok(Number.isNaN(f16ToF32(Uint16Array.of(0x7e00))[0]));
});

test('float16 encoding rounds to nearest even and round-trips every finite half', () => {
  const all = Uint16Array.from({ length: 0x7c00 }, (_, i) => i);
  assert.deepEqual(Array.from(f32ToF16(f16ToF32(all))), Array.from(all));
  assert.equal(f32ToF16(Float32Array.of(1 + 2 ** -11))[0], 0x3c00); // halfway: to even
  assert.equal(f32ToF16(Float32Array.of(70000))[0], 0x7c00); // overflow to infinity
});
