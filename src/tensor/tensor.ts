import { allocate, bf16ToF32, f16ToF32, f32ToBf16, type DType } from '../dtype.js';
import { ArgumentError, DTypeError, formatShape, ShapeError } from '../errors.js';
import { backward as runBackward, type GradNode } from './autograd.js';
import * as ew from './ops/elementwise.js';
import * as mv from './ops/movement.js';
import * as rd from './ops/reduce.js';
import { matmul } from './ops/matmul.js';
import { logSoftmax, softmax } from './ops/softmax.js';
import { defaultGenerator, type Generator } from './random.js';
import { contiguousStrides, sizeOf, type Shape } from './shape.js';

export type TensorData = Float32Array | Int32Array | Uint16Array;

export interface TensorOptions {
  dtype?: DType;
  strides?: readonly number[];
  offset?: number;
  requiresGrad?: boolean;
}

function inferDType(data: TensorData): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  throw new DTypeError('[tensor] a Uint16Array could be bfloat16 or float16.', "Pass { dtype: 'bfloat16' } or { dtype: 'float16' }.");
}

/** A strided view must read only elements of its buffer: every stride and the offset are checked once, here. */
function checkView(shape: readonly number[], strides: readonly number[], offset: number, length: number): void {
  if (strides.length !== shape.length || !strides.every(Number.isSafeInteger) || !Number.isSafeInteger(offset) || offset < 0) {
    throw new ShapeError(
      `[tensor] strides ${formatShape(strides)} / offset ${offset} do not describe shape ${formatShape(shape)}.`,
      'Give one integer stride per dimension and a non-negative integer offset.',
    );
  }
  if (sizeOf(shape) === 0) return;
  let lo = offset,
    hi = offset;
  for (let d = 0; d < shape.length; d++) {
    const span = (shape[d] - 1) * strides[d];
    if (span < 0) lo += span;
    else hi += span;
  }
  if (lo < 0 || hi >= length) {
    throw new ShapeError(
      `[tensor] shape ${formatShape(shape)} with strides ${formatShape(strides)} at offset ${offset} reads elements ${lo}..${hi} of a buffer of ${length}.`,
      'A view must stay inside its storage: fix the strides or the offset.',
    );
  }
}

/**
 * An n-dimensional array over a typed buffer, row-major, with strides so that transposes,
 * slices and broadcasts are views. Ops record a graph node when an input requires grad.
 */
export class Tensor {
  readonly data: TensorData;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
  requiresGrad: boolean;
  grad: Tensor | null = null;
  /** The op that produced this tensor, while its graph is alive. */
  node: GradNode | null = null;

  constructor(data: TensorData, shape: Shape, options: TensorOptions = {}) {
    this.dtype = options.dtype ?? inferDType(data);
    this.data = data;
    this.shape = [...shape];
    this.strides = options.strides ? [...options.strides] : contiguousStrides(shape);
    this.offset = options.offset ?? 0;
    this.requiresGrad = options.requiresGrad ?? false;
    if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new ShapeError(`[tensor] invalid shape ${formatShape(shape)}.`, 'Dimensions must be non-negative integers.');
    if (!options.strides) {
      if (!Number.isSafeInteger(this.offset) || this.offset < 0 || this.offset + sizeOf(shape) > data.length) {
        throw new ShapeError(
          `[tensor] shape ${formatShape(shape)} at offset ${this.offset} needs ${sizeOf(shape)} elements but the buffer holds ${data.length}.`,
          'Pass a buffer of the right length or fix the shape.',
        );
      }
    } else {
      checkView(this.shape, this.strides, this.offset, data.length);
    }
  }

  // ---- creation ----
  static from(values: ArrayLike<number> | TensorData, shape?: Shape, dtype: DType = 'float32'): Tensor {
    const s = shape ?? [values.length];
    if (values instanceof Float32Array || values instanceof Int32Array) return new Tensor(values, s);
    const data = allocate(dtype, values.length);
    for (let i = 0; i < values.length; i++) data[i] = values[i];
    if (dtype === 'int32') {
      // Int32Array wraps (2^32 + 5 becomes 5): ids must arrive as the values given, or be refused.
      for (let i = 0; i < values.length; i++) {
        if (data[i] !== values[i]) throw new ArgumentError(`[tensor] value ${values[i]} at index ${i} is not an int32 (integers in [-2^31, 2^31)).`, 'Token ids and masks must be integers in range.');
      }
    }
    return new Tensor(data, s, { dtype });
  }
  static zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
    return new Tensor(allocate(dtype, sizeOf(shape)), shape, { dtype });
  }
  static full(shape: Shape, value: number): Tensor {
    return new Tensor(new Float32Array(sizeOf(shape)).fill(value), shape);
  }
  static ones(shape: Shape): Tensor {
    return Tensor.full(shape, 1);
  }
  static scalar(value: number): Tensor {
    return new Tensor(Float32Array.of(value), []);
  }
  static arange(n: number): Tensor {
    return new Tensor(
      Float32Array.from({ length: n }, (_, i) => i),
      [n],
    );
  }
  /** Standard normal values from a seeded generator. */
  static randn(shape: Shape, generator: Generator = defaultGenerator): Tensor {
    const out = new Float32Array(sizeOf(shape));
    for (let i = 0; i < out.length; i++) out[i] = generator.normal();
    return new Tensor(out, shape);
  }
  /** Uniform values in [low, high) from a seeded generator. */
  static rand(shape: Shape, low = 0, high = 1, generator: Generator = defaultGenerator): Tensor {
    const out = new Float32Array(sizeOf(shape));
    for (let i = 0; i < out.length; i++) out[i] = low + (high - low) * generator.uniform();
    return new Tensor(out, shape);
  }

  // ---- properties ----
  get size(): number {
    return sizeOf(this.shape);
  }
  get ndim(): number {
    return this.shape.length;
  }

  isContiguous(): boolean {
    let expected = 1;
    for (let d = this.ndim - 1; d >= 0; d--) {
      if (this.shape[d] !== 1 && this.strides[d] !== expected) return false;
      expected *= this.shape[d];
    }
    return true;
  }

  /** The elements in row-major order as a float32 buffer: a view when contiguous, else a copy. */
  contiguousData(): Float32Array {
    if (this.dtype !== 'float32') throw new DTypeError(`[tensor] expected float32, got ${this.dtype}.`, 'Convert with .float() first.');
    if (this.isContiguous()) return (this.data as Float32Array).subarray(this.offset, this.offset + this.size);
    return mv.contiguous(this).data as Float32Array;
  }

  /** int32 elements in row-major order (token ids, targets). */
  int32Data(): Int32Array {
    if (this.dtype !== 'int32') throw new DTypeError(`[tensor] expected int32 ids, got ${this.dtype}.`, 'Build ids with Tensor.from(ids, shape, "int32").');
    if (!this.isContiguous()) throw new ShapeError('[tensor] int32 tensors must be contiguous.', 'Build ids as a fresh tensor.');
    return (this.data as Int32Array).subarray(this.offset, this.offset + this.size);
  }

  toArray(): number[] {
    return Array.from(this.dtype === 'int32' ? this.int32Data() : this.float().contiguousData());
  }
  item(): number {
    if (this.size !== 1) throw new ShapeError(`[item] needs a tensor with one element, got shape ${formatShape(this.shape)}.`, 'Reduce it first (e.g. .sum()).');
    return this.data[this.offset];
  }

  clone(): Tensor {
    return new Tensor(Float32Array.from(this.contiguousData()), this.shape);
  }
  /** The same data with no graph: gradients stop here. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, { strides: this.strides, offset: this.offset, dtype: this.dtype });
  }
  onesLike(): Tensor {
    return Tensor.ones(this.shape);
  }
  zerosLike(): Tensor {
    return Tensor.zeros(this.shape);
  }
  /** float32 values: int32 converts, bfloat16 and float16 widen exactly; float32 is returned as is. */
  float(): Tensor {
    if (this.dtype === 'float32') return this;
    if (this.dtype === 'int32') return new Tensor(Float32Array.from(this.int32Data()), this.shape);
    const src = this.halfData();
    return new Tensor(this.dtype === 'bfloat16' ? bf16ToF32(src) : f16ToF32(src), this.shape);
  }
  /** bfloat16 storage (round to nearest even, as PyTorch casts); gradients never flow through it. */
  bfloat16(): Tensor {
    if (this.dtype === 'bfloat16') return this;
    return new Tensor(f32ToBf16(this.float().contiguousData()), this.shape, { dtype: 'bfloat16' });
  }
  /** The 16-bit elements of a bfloat16/float16 tensor in row-major order (copied when strided). */
  halfData(): Uint16Array {
    if (this.dtype !== 'bfloat16' && this.dtype !== 'float16') throw new DTypeError(`[tensor] expected a 16-bit float tensor, got ${this.dtype}.`, 'Use contiguousData() for float32.');
    const data = this.data as Uint16Array;
    if (this.isContiguous()) return data.subarray(this.offset, this.offset + this.size);
    const out = new Uint16Array(this.size);
    const index = new Array<number>(this.ndim).fill(0);
    for (let i = 0; i < out.length; i++) {
      let at = this.offset;
      for (let d = 0; d < this.ndim; d++) at += index[d] * this.strides[d];
      out[i] = data[at];
      for (let d = this.ndim - 1; d >= 0 && ++index[d] === this.shape[d]; d--) index[d] = 0;
    }
    return out;
  }

  backward(grad?: Tensor, options?: { retainGraph?: boolean }): void {
    runBackward(this, grad, options);
  }

  // ---- elementwise ----
  add(other: Tensor | number): Tensor {
    return ew.add(this, other);
  }
  sub(other: Tensor | number): Tensor {
    return ew.sub(this, other);
  }
  mul(other: Tensor | number): Tensor {
    return ew.mul(this, other);
  }
  div(other: Tensor | number): Tensor {
    return ew.div(this, other);
  }
  neg(): Tensor {
    return ew.neg(this);
  }
  exp(): Tensor {
    return ew.exp(this);
  }
  log(): Tensor {
    return ew.log(this);
  }
  sqrt(): Tensor {
    return ew.sqrt(this);
  }
  rsqrt(): Tensor {
    return ew.rsqrt(this);
  }
  pow(exponent: number): Tensor {
    return ew.pow(this, exponent);
  }
  abs(): Tensor {
    return ew.abs(this);
  }
  clamp(min: number, max: number): Tensor {
    return ew.clamp(this, min, max);
  }
  tanh(): Tensor {
    return ew.tanh(this);
  }
  sigmoid(): Tensor {
    return ew.sigmoid(this);
  }
  relu(): Tensor {
    return ew.relu(this);
  }
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor {
    return ew.gelu(this, approximate);
  }
  silu(): Tensor {
    return ew.silu(this);
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return ew.maskedFill(this, mask, value);
  }

  // ---- reductions ----
  sum(axes?: number | number[], keepdim = false): Tensor {
    return rd.sum(this, axes, keepdim);
  }
  mean(axes?: number | number[], keepdim = false): Tensor {
    return rd.mean(this, axes, keepdim);
  }
  max(axes?: number | number[], keepdim = false): Tensor {
    return rd.max(this, axes, keepdim);
  }

  // ---- movement ----
  reshape(shape: Shape): Tensor {
    return mv.reshape(this, shape);
  }
  view(shape: Shape): Tensor {
    return mv.reshape(this, shape);
  }
  permute(axes: readonly number[]): Tensor {
    return mv.permute(this, axes);
  }
  transpose(a = -2, b = -1): Tensor {
    return mv.transpose(this, a, b);
  }
  get T(): Tensor {
    return mv.transpose(this, -2, -1);
  }
  narrow(axis: number, start: number, length: number): Tensor {
    return mv.narrow(this, axis, start, length);
  }
  split(sizes: number | readonly number[], axis = -1): Tensor[] {
    return mv.split(this, sizes, axis);
  }
  expand(shape: Shape): Tensor {
    return mv.expand(this, shape);
  }
  unsqueeze(axis: number): Tensor {
    return mv.unsqueeze(this, axis);
  }
  contiguous(): Tensor {
    return mv.contiguous(this);
  }

  // ---- linear algebra and softmax ----
  matmul(other: Tensor): Tensor {
    return matmul(this, other);
  }
  softmax(axis = -1): Tensor {
    return softmax(this, axis);
  }
  logSoftmax(axis = -1): Tensor {
    return logSoftmax(this, axis);
  }

  toString(): string {
    return `Tensor(${formatShape(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}
