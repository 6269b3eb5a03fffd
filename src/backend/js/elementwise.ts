import { BinaryOp, UnaryOp, type BinaryOpCode, type F32, type Strided, type UnaryOpCode } from '../backend.js';
import { dropThreshold, mix32 } from '../hash.js';
import { forEachStrided } from './strided.js';
import { erf, INV_SQRT_2PI, SQRT_2_OVER_PI } from './math.js';

function unaryScalar(op: UnaryOpCode, x: number, p0: number, p1: number): number {
  switch (op) {
    case UnaryOp.neg:
      return -x;
    case UnaryOp.exp:
      return Math.exp(x);
    case UnaryOp.log:
      return Math.log(x);
    case UnaryOp.sqrt:
      return Math.sqrt(x);
    case UnaryOp.rsqrt:
      return 1 / Math.sqrt(x);
    case UnaryOp.abs:
      return Math.abs(x);
    case UnaryOp.tanh:
      return Math.tanh(x);
    case UnaryOp.sigmoid:
      return 1 / (1 + Math.exp(-x));
    case UnaryOp.relu:
      return x > 0 ? x : 0;
    case UnaryOp.gelu:
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case UnaryOp.geluTanh:
      return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
    case UnaryOp.silu:
      return x / (1 + Math.exp(-x));
    case UnaryOp.pow:
      return x ** p0;
    case UnaryOp.clamp:
      return x < p0 ? p0 : x > p1 ? p1 : x;
  }
}

/** d f(x) / dx, given x and y = f(x). */
function unaryDerivative(op: UnaryOpCode, x: number, y: number, p0: number, p1: number): number {
  switch (op) {
    case UnaryOp.neg:
      return -1;
    case UnaryOp.exp:
      return y;
    case UnaryOp.log:
      return 1 / x;
    case UnaryOp.sqrt:
      return 0.5 / y;
    case UnaryOp.rsqrt:
      return (-0.5 * y) / x;
    case UnaryOp.abs:
      return x > 0 ? 1 : x < 0 ? -1 : 0;
    case UnaryOp.tanh:
      return 1 - y * y;
    case UnaryOp.sigmoid:
      return y * (1 - y);
    case UnaryOp.relu:
      return x > 0 ? 1 : 0;
    case UnaryOp.gelu:
      return 0.5 * (1 + erf(x / Math.SQRT2)) + x * Math.exp(-0.5 * x * x) * INV_SQRT_2PI;
    case UnaryOp.geluTanh: {
      const inner = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
      const t = Math.tanh(inner);
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
    }
    case UnaryOp.silu: {
      const s = 1 / (1 + Math.exp(-x));
      return s * (1 + x * (1 - s));
    }
    case UnaryOp.pow:
      return p0 === 0 ? 0 : p0 * x ** (p0 - 1);
    case UnaryOp.clamp:
      return x >= p0 && x <= p1 ? 1 : 0;
  }
}

export function unary(op: UnaryOpCode, out: F32, x: F32, p0: number, p1: number): void {
  for (let i = 0; i < x.length; i++) out[i] = unaryScalar(op, x[i], p0, p1);
}

export function unaryBackward(op: UnaryOpCode, gx: F32, x: F32, y: F32, gy: F32, p0: number, p1: number): void {
  for (let i = 0; i < x.length; i++) gx[i] = gy[i] * unaryDerivative(op, x[i], y[i], p0, p1);
}

function binaryScalar(op: BinaryOpCode, a: number, b: number): number {
  switch (op) {
    case BinaryOp.add:
      return a + b;
    case BinaryOp.sub:
      return a - b;
    case BinaryOp.mul:
      return a * b;
    case BinaryOp.div:
      return a / b;
    case BinaryOp.eq:
      return a === b ? 1 : 0;
  }
}

export function binary(op: BinaryOpCode, out: F32, a: Strided, b: Strided, shape: readonly number[]): void {
  const ad = a.data,
    bd = b.data;
  forEachStrided(shape, [a, b], (i, o) => {
    out[i] = binaryScalar(op, ad[o[0]], bd[o[1]]);
  });
}

export function where(out: F32, cond: Strided, a: Strided, b: Strided, shape: readonly number[]): void {
  forEachStrided(shape, [cond, a, b], (i, o) => {
    out[i] = cond.data[o[0]] !== 0 ? a.data[o[1]] : b.data[o[2]];
  });
}

export function copy(dst: Strided, src: Strided, shape: readonly number[]): void {
  forEachStrided(shape, [dst, src], (_i, o) => {
    dst.data[o[0]] = src.data[o[1]];
  });
}

export function dropout(out: F32, x: F32, p: number, seed: number): void {
  const threshold = dropThreshold(p);
  const scale = 1 / (1 - p);
  for (let i = 0; i < x.length; i++) out[i] = mix32(seed, i) < threshold ? 0 : x[i] * scale;
}
