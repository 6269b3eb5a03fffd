import { closeSync, existsSync, fstatSync, readSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../dtype.js';
import { ArgumentError, CheckpointError } from '../errors.js';
import { Tensor } from '../tensor/index.js';
import { writeFileAtomic } from './atomic-write.js';
import { openRegularFile, readTextFile } from '../files.js';

/** safetensors dtypes and their sizes in bytes. */
const DTYPE_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
/** Larger headers are refused before parsing: real ones are kilobytes. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface TensorInfo {
  dtype: string;
  shape: number[];
  start: number;
  end: number;
}
export interface SafetensorsHeader {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  dataStart: number;
}

function corrupt(path: string, what: string): CheckpointError {
  return new CheckpointError(`[safetensors] ${path} is not a valid safetensors file: ${what}.`, {
    hint: 'The file is truncated or corrupt: download or export it again.',
  });
}

/**
 * The first key that appears twice in one object of a JSON text (JSON.parse silently keeps the
 * last). The text is known to be valid JSON: only strings and braces need tracking.
 */
export function duplicateJsonKey(text: string): string | null {
  const objects: { keys: Set<string>; expectKey: boolean }[] = [];
  const containers: ('{' | '[')[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = objects[objects.length - 1];
      if (containers[containers.length - 1] === '{' && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return key;
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    } else if (ch === '{') {
      containers.push('{');
      objects.push({ keys: new Set(), expectKey: true });
    } else if (ch === '[') containers.push('[');
    else if (ch === '}') {
      containers.pop();
      objects.pop();
    } else if (ch === ']') containers.pop();
    else if (ch === ',' && containers[containers.length - 1] === '{') objects[objects.length - 1].expectKey = true;
  }
  return null;
}

/**
 * Parses and validates a header by the format's own rules, as the Rust loader does: a JSON object
 * with no duplicate names, __metadata__ mapping strings to strings, known dtypes, sizes that match
 * dtype x shape, and offsets that, sorted, tile the data section exactly (no gap, overlap or
 * trailing byte). Everything is checked before any tensor memory is allocated.
 */
export function parseHeader(headerBytes: Uint8Array, fileSize: number, path = '<buffer>'): SafetensorsHeader {
  let json: unknown;
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let source: string;
  try {
    source = text.decode(headerBytes);
    json = JSON.parse(source);
  } catch {
    throw corrupt(path, 'the header is not valid JSON (in UTF-8)');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json) || headerBytes[0] !== 0x7b) throw corrupt(path, "the header is not a JSON object starting with '{'");
  const duplicate = duplicateJsonKey(source);
  if (duplicate !== null) throw corrupt(path, `the header names ${JSON.stringify(duplicate)} twice`);
  const dataStart = 8 + headerBytes.byteLength;
  const dataSize = fileSize - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !Object.values(raw).every((v) => typeof v === 'string')) throw corrupt(path, '__metadata__ is not an object of strings');
      metadata = raw as Record<string, string>;
      continue;
    }
    const entry = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw corrupt(path, `entry '${name}' is not an object`);
    if (typeof entry.dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, entry.dtype))
      throw corrupt(path, `tensor '${name}' has unsupported dtype ${JSON.stringify(entry.dtype)} (supported: ${Object.keys(DTYPE_BYTES).join(', ')})`);
    if (!Array.isArray(entry.shape) || !entry.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw corrupt(path, `tensor '${name}' has an invalid shape ${JSON.stringify(entry.shape)}`);
    const offsets = entry.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      throw corrupt(path, `tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [start, end] = offsets as number[];
    if (end > dataSize) throw corrupt(path, `tensor '${name}' ends at byte ${end} but the data section holds ${dataSize} bytes`);
    // Stops as soon as the product passes the data size, so it never loses precision.
    let bytes = (entry.shape as number[]).includes(0) ? 0 : DTYPE_BYTES[entry.dtype];
    for (const d of entry.shape as number[]) bytes = bytes > dataSize ? bytes : bytes * d;
    if (bytes !== end - start) {
      throw corrupt(path, `tensor '${name}' (${entry.dtype} ${JSON.stringify(entry.shape)}) needs ${bytes > dataSize ? `more than ${dataSize}` : bytes} bytes but its offsets span ${end - start}`);
    }
    tensors.set(name, { dtype: entry.dtype, shape: entry.shape as number[], start, end });
  }
  const spans = [...tensors.entries()].sort((a, b) => a[1].start - b[1].start || a[1].end - b[1].end);
  let covered = 0;
  for (const [name, info] of spans) {
    if (info.start < covered) throw corrupt(path, `tensor '${name}' overlaps the tensor before it (starts at byte ${info.start}, before ${covered})`);
    if (info.start > covered) throw corrupt(path, `bytes ${covered}..${info.start} of the data section belong to no tensor (before '${name}')`);
    covered = info.end;
  }
  if (covered !== dataSize) throw corrupt(path, `the tensors cover ${covered} bytes but the data section holds ${dataSize}`);
  return { tensors, metadata, dataStart };
}

function readExactly(fd: number, target: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < target.byteLength) {
    const n = readSync(fd, target, done, target.byteLength - done, position + done);
    if (n === 0) throw corrupt(path, 'unexpected end of file');
    done += n;
  }
}

/** Decodes raw bytes to a tensor: floats widen to float32, integers become int32 (range-checked). */
export function decodeTensor(name: string, info: TensorInfo, bytes: Uint8Array, path = '<buffer>'): Tensor {
  const n = info.shape.reduce((a, b) => a * b, 1);
  // Copy into an aligned buffer: offsets in the file need not be multiples of the item size.
  const aligned = new Uint8Array(bytes.byteLength);
  aligned.set(bytes);
  const buf = aligned.buffer;
  switch (info.dtype) {
    case 'F32':
      return new Tensor(new Float32Array(buf, 0, n), info.shape);
    case 'F16':
      return new Tensor(f16ToF32(new Uint16Array(buf, 0, n)), info.shape);
    case 'BF16':
      return new Tensor(bf16ToF32(new Uint16Array(buf, 0, n)), info.shape);
    case 'F64':
      return new Tensor(Float32Array.from(new Float64Array(buf, 0, n)), info.shape);
    case 'I32':
      return new Tensor(new Int32Array(buf, 0, n), info.shape);
    case 'I64': {
      const src = new BigInt64Array(buf, 0, n);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        if (src[i] > 2147483647n || src[i] < -2147483648n)
          throw new CheckpointError(`[safetensors] ${path}: tensor '${name}' holds ${src[i]}, beyond int32.`, { hint: 'peft-ts keeps integer tensors (ids, masks) as int32.' });
        out[i] = Number(src[i]);
      }
      return new Tensor(out, info.shape);
    }
    case 'I16':
      return new Tensor(Int32Array.from(new Int16Array(buf, 0, n)), info.shape);
    case 'I8':
      return new Tensor(Int32Array.from(new Int8Array(buf, 0, n)), info.shape);
    default:
      return new Tensor(Int32Array.from(new Uint8Array(buf, 0, n)), info.shape); // U8, BOOL
  }
}

/** Reads and validates the header of a safetensors file. */
export function readHeader(path: string): SafetensorsHeader {
  const fd = openFile(path);
  try {
    return readHeaderFd(fd, path);
  } finally {
    closeSync(fd);
  }
}

function openFile(path: string): number {
  if (/\.(bin|pt|pth|pkl|ckpt)$/i.test(path)) {
    throw new CheckpointError(`[safetensors] ${path} is a pickle file, which peft-ts never loads (pickles can run code).`, {
      hint: 'Convert it to safetensors once in Python: `from safetensors.torch import save_file; save_file(torch.load(p, weights_only=True), "model.safetensors")`.',
    });
  }
  return openRegularFile(path, (problem, cause) => new CheckpointError(`[safetensors] ${path} ${problem}.`, { hint: 'Check the path: it must be a safetensors file.', cause }));
}

function readHeaderFd(fd: number, path: string): SafetensorsHeader {
  const size = fstatSync(fd).size;
  if (size < 8) throw corrupt(path, `the file has ${size} bytes, fewer than the 8-byte header length`);
  const lenBytes = new Uint8Array(8);
  readExactly(fd, lenBytes, 0, path);
  const headerLen = Number(new DataView(lenBytes.buffer).getBigUint64(0, true));
  if (headerLen > size - 8) throw corrupt(path, `the header claims ${headerLen} bytes but the file has ${size - 8} after the length`);
  if (headerLen > MAX_HEADER_BYTES) throw corrupt(path, `the header claims ${headerLen} bytes, more than the ${MAX_HEADER_BYTES} allowed`);
  const headerBytes = new Uint8Array(headerLen);
  readExactly(fd, headerBytes, 8, path);
  return parseHeader(headerBytes, size, path);
}

/** Loads every tensor of a safetensors file (or the keys listed). */
export function loadSafetensors(path: string, keys?: Iterable<string>): Map<string, Tensor> {
  const fd = openFile(path);
  try {
    const header = readHeaderFd(fd, path);
    const out = new Map<string, Tensor>();
    for (const name of keys ?? header.tensors.keys()) {
      const info = header.tensors.get(name);
      if (!info) throw new CheckpointError(`[safetensors] ${path} has no tensor '${name}'.`, { hint: 'Check the key name and the file.' });
      const bytes = new Uint8Array(info.end - info.start);
      readExactly(fd, bytes, header.dataStart + info.start, path);
      out.set(name, decodeTensor(name, info, bytes, path));
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/**
 * model.safetensors.index.json as shard path -> the tensor names it holds. weight_map must map
 * names to file names inside the model folder: '../' or absolute paths from a downloaded index
 * never reach other files.
 */
export function readShardIndex(index: string): Map<string, string[]> {
  const bad = (what: string, cause?: unknown) => new CheckpointError(`[checkpoint] ${index} ${what}.`, { hint: 'Re-export the sharded checkpoint.', cause });
  const text = readTextFile(index, bad);
  let weightMap: unknown;
  try {
    weightMap = (JSON.parse(text) as { weight_map?: unknown } | null)?.weight_map;
  } catch (cause) {
    throw bad('is not valid JSON', cause);
  }
  if (!weightMap || typeof weightMap !== 'object' || Array.isArray(weightMap)) throw bad('has no weight_map object (tensor name -> shard file)');
  const folder = resolve(dirname(index));
  const byFile = new Map<string, string[]>();
  for (const [key, file] of Object.entries(weightMap)) {
    if (typeof file !== 'string' || file === '') throw bad(`maps '${key}' to ${JSON.stringify(file)}, not a file name`);
    const path = resolve(folder, file);
    if (isAbsolute(file) || relative(folder, path).startsWith('..') || path === folder) throw bad(`maps '${key}' to ${JSON.stringify(file)}, outside the model folder`);
    byFile.set(path, [...(byFile.get(path) ?? []), key]);
  }
  return byFile;
}

/**
 * Loads a model's weights from a folder: model.safetensors, or the shards listed in
 * model.safetensors.index.json. Pickle checkpoints are refused with a conversion hint.
 */
export function loadCheckpointFolder(dir: string): Map<string, Tensor> {
  const index = join(dir, 'model.safetensors.index.json');
  if (existsSync(index)) {
    const out = new Map<string, Tensor>();
    for (const [file, keys] of readShardIndex(index)) for (const [k, t] of loadSafetensors(file, keys)) out.set(k, t);
    return out;
  }
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) return loadSafetensors(single);
  for (const pickle of ['pytorch_model.bin', 'model.bin', 'pytorch_model.bin.index.json']) {
    if (existsSync(join(dir, pickle))) openFile(join(dir, pickle)); // throws the conversion hint
  }
  throw new CheckpointError(`[checkpoint] no model.safetensors or model.safetensors.index.json in ${dir}.`, { hint: 'Point --model at a Hugging Face model folder.' });
}

export interface SaveOptions {
  /** How float tensors are stored (default F32, and BF16 for bfloat16 tensors); F16 and BF16 round to nearest even. */
  floatDType?: 'F32' | 'F16' | 'BF16';
  /** How int32 tensors are stored (default I32); narrower types must hold every value (PEFT stores VB-LoRA's top-k indices as U8 or I16). */
  intDType?: IntDType;
}

export type IntDType = 'U8' | 'I16' | 'I32' | 'I64';
const INT_RANGE: Record<'U8' | 'I16', [number, number]> = { U8: [0, 255], I16: [-32768, 32767] };

/** Writes tensors (sorted by name, 8-byte-aligned header) atomically, as HF's safetensors does. */
export function saveSafetensors(path: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>, options: SaveOptions = {}): void {
  const entries = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    let bytes: Uint8Array;
    let dtype: string;
    if (t.dtype === 'int32') {
      const ints = t.int32Data();
      dtype = options.intDType ?? 'I32';
      if (dtype === 'U8' || dtype === 'I16') {
        const [low, high] = INT_RANGE[dtype];
        if (ints.some((v) => v < low || v > high)) throw new ArgumentError(`[safetensors] '${name}' holds values outside ${dtype}'s range [${low}, ${high}].`, 'Store it as I32.');
        bytes = dtype === 'U8' ? Uint8Array.from(ints) : new Uint8Array(Int16Array.from(ints).buffer);
      } else if (dtype === 'I64') bytes = new Uint8Array(BigInt64Array.from(ints, (v) => BigInt(v)).buffer);
      else bytes = new Uint8Array(Int32Array.from(ints).buffer);
    } else if (t.dtype === 'bfloat16' && (options.floatDType ?? 'BF16') === 'BF16') {
      // bfloat16 weights are written as they are held: no rounding, no widening.
      const h = Uint16Array.from(t.halfData());
      bytes = new Uint8Array(h.buffer);
      dtype = 'BF16';
    } else {
      const f = t.float().contiguousData();
      dtype = options.floatDType ?? 'F32';
      const encoded = dtype === 'BF16' ? f32ToBf16(f) : dtype === 'F16' ? f32ToF16(f) : f;
      bytes = new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    }
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    offset += bytes.byteLength;
    blobs.push(bytes);
  }
  if (metadata) header.__metadata__ = metadata;
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerBytes.byteLength));
  writeFileAtomic(path, [len, headerBytes, ...blobs]);
}
