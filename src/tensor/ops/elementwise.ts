import { emptyF32 } from '../storage.js';
import { BinaryOp, getBackend, UnaryOp, type BinaryOpCode, type UnaryOpCode } from '../../backend/index.js';
import { ArgumentError, DTypeError } from '../../errors.js';
import { record } from '../autograd.js';
import { defaultGenerator, type Generator } from '../random.js';
import { broadcastShapes, broadcastStrides, collapseDims } from '../shape.js';
import { Tensor } from '../tensor.js';
import { sumTo } from './reduce.js';

export function requireFloat(op: string, ...tensors: Tensor[]): void {
  for (const t of tensors) {
    if (t.dtype !== 'float32') throw new DTypeError(`[${op}] expects float32 tensors, got ${t.dtype}.`, 'Convert with .float() first.');
  }
}

function asTensor(x: Tensor | number): Tensor {
  return typeof x === 'number' ? Tensor.scalar(x) : x;
}

function unaryOp(op: string, code: UnaryOpCode, x: Tensor, p0 = 0, p1 = 0): Tensor {
  requireFloat(op, x);
  const xd = x.contiguousData();
  const out = emptyF32(xd.length);
  getBackend().unary(code, out, xd, p0, p1);
  return record(new Tensor(out, x.shape), op, [x], (g) => {
    const gx = emptyF32(xd.length);
    getBackend().unaryBackward(code, gx, xd, out, g.contiguousData(), p0, p1);
    return [new Tensor(gx, x.shape)];
  });
}

export const neg = (x: Tensor) => unaryOp('neg', UnaryOp.neg, x);
export const exp = (x: Tensor) => unaryOp('exp', UnaryOp.exp, x);
export const log = (x: Tensor) => unaryOp('log', UnaryOp.log, x);
export const sqrt = (x: Tensor) => unaryOp('sqrt', UnaryOp.sqrt, x);
export const rsqrt = (x: Tensor) => unaryOp('rsqrt', UnaryOp.rsqrt, x);
export const abs = (x: Tensor) => unaryOp('abs', UnaryOp.abs, x);
export const tanh = (x: Tensor) => unaryOp('tanh', UnaryOp.tanh, x);
export const sigmoid = (x: Tensor) => unaryOp('sigmoid', UnaryOp.sigmoid, x);
export const relu = (x: Tensor) => unaryOp('relu', UnaryOp.relu, x);
export const silu = (x: Tensor) => unaryOp('silu', UnaryOp.silu, x);
export const pow = (x: Tensor, exponent: number) => unaryOp('pow', UnaryOp.pow, x, exponent);
/** GELU with the exact erf form (GPT-2 uses 'tanh', BERT 'none'). */
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none') => unaryOp('gelu', approximate === 'tanh' ? UnaryOp.geluTanh : UnaryOp.gelu, x);

export function clamp(x: Tensor, min: number, max: number): Tensor {
  if (!(min <= max)) throw new ArgumentError(`[clamp] min ${min} is greater than max ${max}.`, 'Pass min <= max.');
  return unaryOp('clamp', UnaryOp.clamp, x, min, max);
}

/** a op b with broadcasting, no graph. */
function binaryRaw(op: string, code: BinaryOpCode, a: Tensor, b: Tensor): Tensor {
  requireFloat(op, a, b);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = emptyF32(shape.reduce((x, y) => x * y, 1));
  const c = collapseDims(shape, [broadcastStrides(a.shape, a.strides, shape), broadcastStrides(b.shape, b.strides, shape)]);
  getBackend().binary(code, out, { data: a.data as Float32Array, offset: a.offset, strides: c.strides[0] }, { data: b.data as Float32Array, offset: b.offset, strides: c.strides[1] }, c.shape);
  return new Tensor(out, shape);
}

export function add(a: Tensor | number, b: Tensor | number): Tensor {
  const x = asTensor(a),
    y = asTensor(b);
  return record(binaryRaw('add', BinaryOp.add, x, y), 'add', [x, y], (g) => [x.requiresGrad ? sumTo(g, x.shape) : null, y.requiresGrad ? sumTo(g, y.shape) : null]);
}

export function sub(a: Tensor | number, b: Tensor | number): Tensor {
  const x = asTensor(a),
    y = asTensor(b);
  return record(binaryRaw('sub', BinaryOp.sub, x, y), 'sub', [x, y], (g) => [x.requiresGrad ? sumTo(g, x.shape) : null, y.requiresGrad ? sumTo(neg(g), y.shape) : null]);
}

export function mul(a: Tensor | number, b: Tensor | number): Tensor {
  const x = asTensor(a),
    y = asTensor(b);
  return record(binaryRaw('mul', BinaryOp.mul, x, y), 'mul', [x, y], (g) => [x.requiresGrad ? sumTo(mul(g, y), x.shape) : null, y.requiresGrad ? sumTo(mul(g, x), y.shape) : null]);
}

export function div(a: Tensor | number, b: Tensor | number): Tensor {
  const x = asTensor(a),
    y = asTensor(b);
  return record(binaryRaw('div', BinaryOp.div, x, y), 'div', [x, y], (g) => [
    x.requiresGrad ? sumTo(div(g, y), x.shape) : null,
    y.requiresGrad ? sumTo(neg(div(mul(g, x), mul(y, y))), y.shape) : null,
  ]);
}

/** 1 where a == b, else 0 (no gradient). */
export function eq(a: Tensor | number, b: Tensor | number): Tensor {
  return binaryRaw('eq', BinaryOp.eq, asTensor(a), asTensor(b));
}

function whereRaw(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  requireFloat('where', cond, a, b);
  const shape = broadcastShapes('where', cond.shape, a.shape, b.shape);
  const c = collapseDims(
    shape,
    [cond, a, b].map((t) => broadcastStrides(t.shape, t.strides, shape)),
  );
  const out = emptyF32(shape.reduce((x, y) => x * y, 1));
  const [cs, as, bs] = c.strides;
  getBackend().where(
    out,
    { data: cond.data as Float32Array, offset: cond.offset, strides: cs },
    { data: a.data as Float32Array, offset: a.offset, strides: as },
    { data: b.data as Float32Array, offset: b.offset, strides: bs },
    c.shape,
  );
  return new Tensor(out, shape);
}

/** cond != 0 ? a : b, elementwise with broadcasting; cond gets no gradient. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const x = asTensor(a),
    y = asTensor(b);
  const zero = Tensor.scalar(0);
  return record(whereRaw(cond, x, y), 'where', [x, y], (g) => [x.requiresGrad ? sumTo(whereRaw(cond, g, zero), x.shape) : null, y.requiresGrad ? sumTo(whereRaw(cond, zero, g), y.shape) : null]);
}

/** x with `value` wherever mask != 0 (mask broadcasts against x). */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  return where(mask, value, x);
}

/**
 * Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p).
 * The mask comes from a counter-based hash of a seed drawn from `generator`, so backward
 * regenerates it instead of storing it.
 */
export function dropout(x: Tensor, p: number, options: { training?: boolean; generator?: Generator } = {}): Tensor {
  if (!(p >= 0 && p < 1)) throw new ArgumentError(`[dropout] p=${p} is outside [0, 1).`, 'Pass a probability in [0, 1).');
  if (options.training === false || p === 0) return x;
  requireFloat('dropout', x);
  const seed = (options.generator ?? defaultGenerator).nextUint32();
  const xd = x.contiguousData();
  const out = emptyF32(xd.length);
  getBackend().dropout(out, xd, p, seed);
  return record(new Tensor(out, x.shape), 'dropout', [x], (g) => {
    const gx = emptyF32(xd.length);
    getBackend().dropout(gx, g.contiguousData(), p, seed);
    return [new Tensor(gx, x.shape)];
  });
}
