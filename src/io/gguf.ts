import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../dtype.js';
import { CheckpointError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';

/**
 * GGUF (llama.cpp's model file), version 3: "GGUF", version, tensor count, metadata count, typed
 * key/value metadata, tensor infos (name, dims fastest-first, ggml type, offset), padding to
 * `general.alignment`, then the tensor data. Everything is little-endian.
 */

const MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
const DEFAULT_ALIGNMENT = 32;
/** ggml's GGML_MAX_DIMS. */
const MAX_DIMS = 4;
/** One string longer than this is refused: real ones (chat templates) are kilobytes. */
const MAX_STRING_BYTES = 64 * 1024 * 1024;

export type GGUFScalarType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'bool' | 'string' | 'u64' | 'i64' | 'f64';
const VALUE_TYPES: GGUFScalarType[] = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string'];
const ARRAY_TYPE_ID = 9;
const WIDE_TYPES: Record<number, GGUFScalarType> = { 10: 'u64', 11: 'i64', 12: 'f64' };
const typeId = (t: GGUFScalarType): number => {
  const i = VALUE_TYPES.indexOf(t);
  return i >= 0 ? i : { u64: 10, i64: 11, f64: 12 }[t as 'u64'];
};
const SCALAR_BYTES: Record<GGUFScalarType, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, bool: 1, string: 8, u64: 8, i64: 8, f64: 8 };

export type GGUFScalar = number | boolean | string;
export type GGUFValue = { type: GGUFScalarType; value: GGUFScalar } | { type: 'array'; itemType: GGUFScalarType; value: GGUFScalar[] };

/** ggml tensor types: id, elements per block, bytes per block. Only the ones peft-ts can decode are writable. */
const GGML_TYPES = {
  F32: [0, 1, 4],
  F16: [1, 1, 2],
  Q4_0: [2, 32, 18],
  Q4_1: [3, 32, 20],
  Q5_0: [6, 32, 22],
  Q5_1: [7, 32, 24],
  Q8_0: [8, 32, 34],
  Q8_1: [9, 32, 36],
  Q2_K: [10, 256, 84],
  Q3_K: [11, 256, 110],
  Q4_K: [12, 256, 144],
  Q5_K: [13, 256, 176],
  Q6_K: [14, 256, 210],
  Q8_K: [15, 256, 292],
  I8: [24, 1, 1],
  I16: [25, 1, 2],
  I32: [26, 1, 4],
  I64: [27, 1, 8],
  F64: [28, 1, 8],
  BF16: [30, 1, 2],
} as const;
export type GGMLType = keyof typeof GGML_TYPES;
/** The types peft-ts reads (dequantising to float32) and writes. */
export const GGUF_FLOAT_TYPES = ['F32', 'F16', 'BF16', 'Q8_0'] as const;
export type GGUFFloatType = (typeof GGUF_FLOAT_TYPES)[number];
const TYPE_BY_ID = new Map<number, GGMLType>(Object.entries(GGML_TYPES).map(([name, [id]]) => [id, name as GGMLType]));

/** `shape` is row-major (numpy/PyTorch order, slowest first); the file stores it reversed. */
export interface GGUFTensorInfo {
  name: string;
  shape: number[];
  type: GGMLType;
  offset: number;
  byteLength: number;
}
export interface GGUFHeader {
  version: number;
  metadata: Map<string, GGUFValue>;
  tensors: Map<string, GGUFTensorInfo>;
  alignment: number;
  dataStart: number;
}

function corrupt(path: string, what: string): CheckpointError {
  return new CheckpointError(`[gguf] ${path} is not a valid GGUF file: ${what}.`, { hint: 'The file is truncated or corrupt: download or export it again.' });
}

function ggmlByteLength(type: GGMLType, shape: readonly number[]): number {
  const [, block, bytes] = GGML_TYPES[type];
  return (shape.reduce((a, b) => a * b, 1) / block) * bytes;
}

/** Random access to the bytes of a file or a buffer. */
interface ByteSource {
  size: number;
  read(position: number, length: number): Uint8Array;
}

function bufferSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.byteLength, read: (position, length) => bytes.subarray(position, position + length) };
}

function fileSource(fd: number): ByteSource {
  const size = fstatSync(fd).size;
  // Header reads are small and sequential: serve them from a 1 MiB window.
  let window = new Uint8Array(0),
    windowStart = 0;
  return {
    size,
    read(position, length) {
      if (position >= windowStart && position + length <= windowStart + window.byteLength) return window.subarray(position - windowStart, position - windowStart + length);
      const want = Math.min(Math.max(length, 1 << 20), size - position);
      const out = new Uint8Array(want);
      let done = 0;
      while (done < want) {
        const n = readSync(fd, out, done, want - done, position + done);
        if (n === 0) break;
        done += n;
      }
      window = out.subarray(0, done);
      windowStart = position;
      return window.subarray(0, Math.min(length, done));
    },
  };
}

/** A bounds-checked little-endian cursor: every read past the end is a CheckpointError, never a RangeError. */
class Cursor {
  position = 0;
  constructor(
    private readonly source: ByteSource,
    private readonly path: string,
  ) {}

  take(n: number, what: string): DataView {
    if (n > this.source.size - this.position) throw corrupt(this.path, `${what} runs past the end of the file (byte ${this.position} + ${n} > ${this.source.size})`);
    const bytes = this.source.read(this.position, n);
    this.position += n;
    return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u32(what: string): number {
    return this.take(4, what).getUint32(0, true);
  }

  u64(what: string): number {
    const v = this.take(8, what).getBigUint64(0, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(this.path, `${what} is ${v}, beyond any real file`);
    return Number(v);
  }

  string(what: string): string {
    const n = this.u64(`the length of ${what}`);
    if (n > MAX_STRING_BYTES) throw corrupt(this.path, `${what} claims ${n} bytes, more than the ${MAX_STRING_BYTES} allowed`);
    const view = this.take(n, what);
    return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('utf8');
  }

  scalar(type: GGUFScalarType, what: string): GGUFScalar {
    if (type === 'string') return this.string(what);
    const v = this.take(SCALAR_BYTES[type], what);
    switch (type) {
      case 'u8':
        return v.getUint8(0);
      case 'i8':
        return v.getInt8(0);
      case 'u16':
        return v.getUint16(0, true);
      case 'i16':
        return v.getInt16(0, true);
      case 'u32':
        return v.getUint32(0, true);
      case 'i32':
        return v.getInt32(0, true);
      case 'f32':
        return v.getFloat32(0, true);
      case 'f64':
        return v.getFloat64(0, true);
      case 'bool': {
        const b = v.getUint8(0);
        if (b > 1) throw corrupt(this.path, `${what} is a bool holding ${b}`);
        return b === 1;
      }
      default: {
        const big = type === 'u64' ? v.getBigUint64(0, true) : v.getBigInt64(0, true);
        if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) throw corrupt(this.path, `${what} holds ${big}, beyond 2^53`);
        return Number(big);
      }
    }
  }

  valueType(what: string): GGUFScalarType | 'array' {
    const id = this.u32(`the type of ${what}`);
    if (id === ARRAY_TYPE_ID) return 'array';
    const t = id < VALUE_TYPES.length ? VALUE_TYPES[id] : WIDE_TYPES[id];
    if (!t) throw corrupt(this.path, `${what} has unknown value type ${id}`);
    return t;
  }
}

function parse(source: ByteSource, path: string): GGUFHeader {
  const c = new Cursor(source, path);
  if (source.size < 4 || c.u32('the magic') !== MAGIC) throw corrupt(path, 'it does not start with "GGUF"');
  const version = c.u32('the version');
  if (version !== 2 && version !== 3) {
    const hint = version === 0x03000000 || version === 0x02000000 ? ' (a big-endian file, which peft-ts does not read)' : '';
    throw corrupt(path, `version ${version} is not supported${hint}; peft-ts reads versions 2 and 3`);
  }
  const tensorCount = c.u64('the tensor count');
  const kvCount = c.u64('the metadata count');
  // Each metadata entry takes at least 13 bytes and each tensor info at least 24: bound the counts before looping.
  if (kvCount * 13 + tensorCount * 24 > source.size - c.position) throw corrupt(path, `${tensorCount} tensors and ${kvCount} metadata entries cannot fit in ${source.size} bytes`);
  const metadata = new Map<string, GGUFValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = c.string(`metadata key ${i}`);
    if (metadata.has(key)) throw corrupt(path, `metadata key '${key}' appears twice`);
    const type = c.valueType(`'${key}'`);
    if (type !== 'array') {
      metadata.set(key, { type, value: c.scalar(type, `'${key}'`) });
      continue;
    }
    const itemId = c.u32(`the item type of '${key}'`);
    const itemType = itemId < VALUE_TYPES.length ? VALUE_TYPES[itemId] : WIDE_TYPES[itemId];
    if (!itemType) throw corrupt(path, `'${key}' is an array of ${itemId === ARRAY_TYPE_ID ? 'arrays, which peft-ts does not read' : `unknown type ${itemId}`}`);
    const count = c.u64(`the length of '${key}'`);
    if (count * SCALAR_BYTES[itemType] > source.size - c.position) throw corrupt(path, `'${key}' claims ${count} items, more than the file holds`);
    const value: GGUFScalar[] = new Array(count);
    for (let j = 0; j < count; j++) value[j] = c.scalar(itemType, `'${key}'[${j}]`);
    metadata.set(key, { type: 'array', itemType, value });
  }
  const alignEntry = metadata.get('general.alignment');
  let alignment = DEFAULT_ALIGNMENT;
  if (alignEntry) {
    const a = alignEntry.value;
    if (alignEntry.type !== 'u32' || typeof a !== 'number' || a === 0 || (a & (a - 1)) !== 0) throw corrupt(path, `general.alignment must be a u32 power of two, not ${JSON.stringify(a)}`);
    alignment = a;
  }
  const infos: GGUFTensorInfo[] = [];
  const tensors = new Map<string, GGUFTensorInfo>();
  for (let i = 0; i < tensorCount; i++) {
    const name = c.string(`tensor name ${i}`);
    if (tensors.has(name)) throw corrupt(path, `tensor '${name}' appears twice`);
    const nDims = c.u32(`the dimension count of '${name}'`);
    if (nDims < 1 || nDims > MAX_DIMS) throw corrupt(path, `tensor '${name}' has ${nDims} dimensions (1 to ${MAX_DIMS} allowed)`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(c.u64(`dimension ${d} of '${name}'`));
    const id = c.u32(`the type of '${name}'`);
    const type = TYPE_BY_ID.get(id);
    if (!type) throw corrupt(path, `tensor '${name}' has unknown ggml type ${id}`);
    const offset = c.u64(`the offset of '${name}'`);
    const numel = dims.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(numel)) throw corrupt(path, `tensor '${name}' has ${dims.join(' x ')} elements, too many`);
    if (dims[0] % GGML_TYPES[type][1] !== 0) throw corrupt(path, `tensor '${name}' rows of ${dims[0]} are not whole ${type} blocks of ${GGML_TYPES[type][1]}`);
    if (offset % alignment !== 0) throw corrupt(path, `tensor '${name}' starts at offset ${offset}, not a multiple of the alignment ${alignment}`);
    const info: GGUFTensorInfo = { name, shape: dims.reverse(), type, offset, byteLength: ggmlByteLength(type, dims) };
    tensors.set(name, info);
    infos.push(info);
  }
  const dataStart = Math.ceil(c.position / alignment) * alignment;
  const dataSize = source.size - dataStart;
  for (const t of infos)
    if (t.offset + t.byteLength > dataSize) throw corrupt(path, `tensor '${t.name}' ends at byte ${t.offset + t.byteLength} of the data section, which holds ${Math.max(0, dataSize)}`);
  const spans = [...infos].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < spans.length; i++) if (spans[i].offset < spans[i - 1].offset + spans[i - 1].byteLength) throw corrupt(path, `tensors '${spans[i - 1].name}' and '${spans[i].name}' overlap`);
  return { version, metadata, tensors, alignment, dataStart };
}

/** Parses and validates a whole GGUF file held in memory (header checks as readGGUFHeader). */
export function parseGGUF(bytes: Uint8Array, path = '<buffer>'): GGUFHeader {
  return parse(bufferSource(bytes), path);
}

function openGGUF(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (cause) {
    throw new CheckpointError(`[gguf] cannot open ${path}.`, { hint: 'Check the path.', cause });
  }
}

/**
 * Reads and validates a GGUF header: every count, string and array length is bounded by the file
 * size before anything is allocated, and every tensor (type, dims, offset) lies inside the data
 * section without overlapping another.
 */
export function readGGUFHeader(path: string): GGUFHeader {
  const fd = openGGUF(path);
  try {
    return parse(fileSource(fd), path);
  } finally {
    closeSync(fd);
  }
}

const f16Bits = new Uint16Array(1);
/** Q8_0: blocks of 32 values as one float16 scale d = max|x| / 127 and 32 int8 round(x / d), as ggml quantises. */
function quantizeQ8_0(values: Float32Array): Uint8Array {
  const blocks = values.length / 32;
  const out = new Uint8Array(blocks * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(values[b * 32 + i]));
    // float32 arithmetic throughout, as ggml's C and gguf-py's numpy do, so ties round the same way.
    const d = Math.fround(amax / 127);
    const id = d === 0 ? 0 : Math.fround(1 / d);
    f32ToF16(Float32Array.of(d), f16Bits);
    view.setUint16(b * 34, f16Bits[0], true);
    for (let i = 0; i < 32; i++) {
      const x = Math.fround(values[b * 32 + i] * id);
      view.setInt8(b * 34 + 2 + i, Math.sign(x) * Math.round(Math.abs(x))); // roundf: halves away from zero
    }
  }
  return out;
}

function dequantizeQ8_0(bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const scale = new Uint16Array(1),
    scaleF = new Float32Array(1);
  for (let b = 0; b < n / 32; b++) {
    scale[0] = view.getUint16(b * 34, true);
    const d = f16ToF32(scale, scaleF)[0];
    for (let i = 0; i < 32; i++) out[b * 32 + i] = d * view.getInt8(b * 34 + 2 + i);
  }
  return out;
}

/** float32 values in a ggml type's bytes. Q8_0 needs rows that are whole blocks of 32. */
function encodeGGML(type: GGUFFloatType, values: Float32Array): Uint8Array {
  const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  switch (type) {
    case 'F32':
      return bytes(values);
    case 'F16':
      return bytes(f32ToF16(values));
    case 'BF16':
      return bytes(f32ToBf16(values));
    case 'Q8_0':
      return quantizeQ8_0(values);
  }
}

/** A tensor's bytes as float32 (dequantised). */
function decodeGGML(type: GGMLType, bytes: Uint8Array, numel: number, what = 'tensor'): Float32Array {
  const aligned = new Uint8Array(bytes); // file offsets need not be aligned for the typed-array views
  switch (type) {
    case 'F32':
      return new Float32Array(aligned.buffer, 0, numel);
    case 'F16':
      return f16ToF32(new Uint16Array(aligned.buffer, 0, numel));
    case 'BF16':
      return bf16ToF32(new Uint16Array(aligned.buffer, 0, numel));
    case 'Q8_0':
      return dequantizeQ8_0(aligned, numel);
    default:
      throw new CheckpointError(`[gguf] ${what} is stored as ${type}, which peft-ts does not decode.`, {
        hint: `peft-ts reads ${GGUF_FLOAT_TYPES.join(', ')}: re-export the model with one of them (llama-quantize can convert).`,
      });
  }
}

/** Reads the named tensors (all by default) as float32, with their row-major shapes. */
export function loadGGUFTensors(path: string, names?: Iterable<string>): { header: GGUFHeader; tensors: Map<string, { shape: number[]; data: Float32Array }> } {
  const fd = openGGUF(path);
  try {
    const source = fileSource(fd);
    const header = parse(source, path);
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const name of names ?? header.tensors.keys()) {
      const info = header.tensors.get(name);
      if (!info) throw new CheckpointError(`[gguf] ${path} has no tensor '${name}'.`, { hint: 'Check the tensor name and the file.' });
      const bytes = new Uint8Array(info.byteLength);
      for (let done = 0; done < bytes.byteLength; ) {
        const n = readSync(fd, bytes, done, bytes.byteLength - done, header.dataStart + info.offset + done);
        if (n === 0) throw corrupt(path, `tensor '${name}' is cut short`);
        done += n;
      }
      tensors.set(name, {
        shape: info.shape,
        data: decodeGGML(
          info.type,
          bytes,
          info.shape.reduce((a, b) => a * b, 1),
          `${path}: tensor '${name}'`,
        ),
      });
    }
    return { header, tensors };
  } finally {
    closeSync(fd);
  }
}

export interface GGUFTensorToWrite {
  name: string;
  shape: readonly number[];
  type: GGUFFloatType;
  data: Float32Array;
}

function encodeString(s: string): Uint8Array[] {
  const bytes = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(bytes.byteLength));
  return [len, bytes];
}

function encodeScalar(type: GGUFScalarType, value: GGUFScalar): Uint8Array[] {
  if (type === 'string') return encodeString(value as string);
  const out = Buffer.alloc(SCALAR_BYTES[type]);
  const v = value as number;
  switch (type) {
    case 'u8':
      out.writeUInt8(v);
      break;
    case 'i8':
      out.writeInt8(v);
      break;
    case 'u16':
      out.writeUInt16LE(v);
      break;
    case 'i16':
      out.writeInt16LE(v);
      break;
    case 'u32':
      out.writeUInt32LE(v);
      break;
    case 'i32':
      out.writeInt32LE(v);
      break;
    case 'f32':
      out.writeFloatLE(v);
      break;
    case 'f64':
      out.writeDoubleLE(v);
      break;
    case 'bool':
      out.writeUInt8(value ? 1 : 0);
      break;
    case 'u64':
      out.writeBigUInt64LE(BigInt(v));
      break;
    case 'i64':
      out.writeBigInt64LE(BigInt(v));
      break;
  }
  return [out];
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};

/**
 * Writes a GGUF v3 file atomically: metadata in the order given, tensors in the order given,
 * each tensor's data aligned to `general.alignment` (32 unless the metadata sets it).
 */
export function writeGGUF(path: string, metadata: Map<string, GGUFValue>, tensors: readonly GGUFTensorToWrite[]): void {
  const alignEntry = metadata.get('general.alignment');
  const alignment = alignEntry ? Number(alignEntry.value) : DEFAULT_ALIGNMENT;
  const head: Uint8Array[] = [u32(MAGIC), u32(3), u64(tensors.length), u64(metadata.size)];
  for (const [key, entry] of metadata) {
    head.push(...encodeString(key));
    if (entry.type === 'array') {
      head.push(u32(ARRAY_TYPE_ID), u32(typeId(entry.itemType)), u64(entry.value.length));
      for (const item of entry.value) head.push(...encodeScalar(entry.itemType, item));
    } else {
      head.push(u32(typeId(entry.type)), ...encodeScalar(entry.type, entry.value));
    }
  }
  const data: Uint8Array[] = [];
  let offset = 0;
  for (const t of tensors) {
    if (t.type === 'Q8_0' && t.shape[t.shape.length - 1] % 32 !== 0)
      throw new CheckpointError(`[gguf] tensor '${t.name}' has rows of ${t.shape[t.shape.length - 1]} values, not whole Q8_0 blocks of 32.`, {
        hint: 'Export it as F16 or F32 (llama.cpp converters do the same for such tensors).',
      });
    const bytes = encodeGGML(t.type, t.data);
    head.push(...encodeString(t.name), u32(t.shape.length), ...[...t.shape].reverse().map(u64), u32(GGML_TYPES[t.type][0]), u64(offset));
    const padded = Math.ceil(bytes.byteLength / alignment) * alignment;
    data.push(bytes, new Uint8Array(padded - bytes.byteLength));
    offset += padded;
  }
  const headLength = head.reduce((a, b) => a + b.byteLength, 0);
  head.push(new Uint8Array(Math.ceil(headLength / alignment) * alignment - headLength));
  writeFileAtomic(path, [...head, ...data]);
}

/** Metadata value constructors, so callers state each GGUF type once. */
export const gguf = {
  str: (value: string): GGUFValue => ({ type: 'string', value }),
  u32: (value: number): GGUFValue => ({ type: 'u32', value }),
  i32: (value: number): GGUFValue => ({ type: 'i32', value }),
  f32: (value: number): GGUFValue => ({ type: 'f32', value }),
  bool: (value: boolean): GGUFValue => ({ type: 'bool', value }),
  array: (itemType: GGUFScalarType, value: GGUFScalar[]): GGUFValue => ({ type: 'array', itemType, value }),
};
