import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError } from '../errors.js';
import { Generator, Tensor } from '../tensor/index.js';
import { gguf, loadGGUFTensors, parseGGUF, readGGUFHeader, writeGGUF, type GGUFValue } from './gguf.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'peft-ts-gguf-'));

function sampleFile(): { path: string; values: Float32Array } {
  const path = join(tmp(), 'a.gguf');
  const values = Float32Array.from(Tensor.randn([4, 64], new Generator(7)).contiguousData());
  const metadata = new Map<string, GGUFValue>([
    ['general.architecture', gguf.str('llama')],
    ['general.alignment', gguf.u32(64)],
    ['x.u8', { type: 'u8', value: 200 }],
    ['x.i8', { type: 'i8', value: -5 }],
    ['x.u16', { type: 'u16', value: 60000 }],
    ['x.i16', { type: 'i16', value: -300 }],
    ['x.i32', gguf.i32(-70000)],
    ['x.f32', gguf.f32(0.5)],
    ['x.bool', gguf.bool(true)],
    ['x.u64', { type: 'u64', value: 2 ** 40 }],
    ['x.i64', { type: 'i64', value: -(2 ** 40) }],
    ['x.f64', { type: 'f64', value: Math.PI }],
    ['x.utf8', gguf.str('héllo ✓')],
    ['x.tokens', gguf.array('string', ['a', 'Ġb', '<|endoftext|>'])],
    ['x.types', gguf.array('i32', [1, 1, 3])],
  ]);
  writeGGUF(path, metadata, [
    { name: 'w32', shape: [4, 64], type: 'F32', data: values },
    { name: 'w16', shape: [4, 64], type: 'F16', data: values },
    { name: 'wbf', shape: [4, 64], type: 'BF16', data: values },
    { name: 'wq8', shape: [4, 64], type: 'Q8_0', data: values },
    { name: 'v', shape: [3], type: 'F32', data: Float32Array.of(1, 2, 3) },
  ]);
  return { path, values };
}

test('round trip: every metadata type, F32/F16/BF16/Q8_0 tensors, alignment honoured', () => {
  const { path, values } = sampleFile();
  const header = readGGUFHeader(path);
  assert.equal(header.version, 3);
  assert.equal(header.alignment, 64);
  assert.equal(header.dataStart % 64, 0);
  const meta = Object.fromEntries([...header.metadata].map(([k, v]) => [k, v.value]));
  assert.deepEqual(meta, {
    'general.architecture': 'llama',
    'general.alignment': 64,
    'x.u8': 200,
    'x.i8': -5,
    'x.u16': 60000,
    'x.i16': -300,
    'x.i32': -70000,
    'x.f32': 0.5,
    'x.bool': true,
    'x.u64': 2 ** 40,
    'x.i64': -(2 ** 40),
    'x.f64': Math.PI,
    'x.utf8': 'héllo ✓',
    'x.tokens': ['a', 'Ġb', '<|endoftext|>'],
    'x.types': [1, 1, 3],
  });
  assert.deepEqual(header.metadata.get('x.types'), { type: 'array', itemType: 'i32', value: [1, 1, 3] });
  for (const t of header.tensors.values()) assert.equal(t.offset % 64, 0, `${t.name} aligned`);
  assert.deepEqual(header.tensors.get('wq8')!.shape, [4, 64]);
  assert.equal(header.tensors.get('wq8')!.byteLength, 4 * 2 * 34);
  const { tensors } = loadGGUFTensors(path);
  assert.deepEqual([...tensors.get('w32')!.data], [...values]);
  assert.deepEqual([...tensors.get('v')!.data], [1, 2, 3]);
  // Storage rounding: half precision 2^-11, bfloat16 2^-8 relative; Q8_0 half a step of max|x|/127 per block of 32.
  const within = (name: string, bound: (x: number, i: number) => number) =>
    tensors.get(name)!.data.forEach((v, i) => assert.ok(Math.abs(v - values[i]) <= bound(values[i], i), `${name}[${i}]: ${v} vs ${values[i]}`));
  within('w16', (x) => Math.abs(x) * 2 ** -11 + 1e-7);
  within('wbf', (x) => Math.abs(x) * 2 ** -8);
  const blockMax = (i: number) => Math.max(...values.subarray(i - (i % 32), i - (i % 32) + 32).map(Math.abs));
  within('wq8', (_, i) => (blockMax(i) / 127) * 0.5 * (1 + 2 ** -10) + 1e-6);
});

test('Q8_0 follows ggml: scale max|x|/127 as float16, values rounded half away from zero', () => {
  const path = join(tmp(), 'q.gguf');
  // max |x| = 127 gives d = 1, so the stored int8s are the values rounded: 2.5 -> 3, -2.5 -> -3.
  const values = Float32Array.from({ length: 32 }, (_, i) => (i === 0 ? 127 : i === 1 ? 2.5 : i === 2 ? -2.5 : i - 16.4));
  writeGGUF(path, new Map(), [{ name: 'q', shape: [32], type: 'Q8_0', data: values }]);
  const bytes = readFileSync(path);
  const start = readGGUFHeader(path).dataStart;
  assert.equal(bytes.readUInt16LE(start), 0x3c00); // 1.0 in float16
  assert.deepEqual([bytes.readInt8(start + 2), bytes.readInt8(start + 3), bytes.readInt8(start + 4), bytes.readInt8(start + 5)], [127, 3, -3, -13]);
  assert.deepEqual([...loadGGUFTensors(path).tensors.get('q')!.data.subarray(0, 4)], [127, 3, -3, -13]);
  assert.throws(() => writeGGUF(join(tmp(), 'bad.gguf'), new Map(), [{ name: 'q', shape: [2, 20], type: 'Q8_0', data: new Float32Array(40) }]), /not whole Q8_0 blocks/);
});

/** A GGUF built by hand from the spec: header fields, then raw bytes. */
function handmade(parts: { version?: number; tensors?: number; kvs?: number; body?: Buffer }): Buffer {
  const head = Buffer.alloc(24);
  head.write('GGUF', 0, 'latin1');
  head.writeUInt32LE(parts.version ?? 3, 4);
  head.writeBigUInt64LE(BigInt(parts.tensors ?? 0), 8);
  head.writeBigUInt64LE(BigInt(parts.kvs ?? 0), 16);
  return Buffer.concat([head, parts.body ?? Buffer.alloc(0)]);
}
const str = (s: string) => {
  const b = Buffer.from(s);
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(BigInt(b.length));
  return Buffer.concat([n, b]);
};
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};
const u64 = (v: number | bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
};
const tensorInfo = (name: string, dims: number[], type: number, offset: number) => Buffer.concat([str(name), u32(dims.length), ...dims.map(u64), u32(type), u64(offset)]);

function expectCorrupt(bytes: Buffer, pattern: RegExp): void {
  const path = join(tmp(), 'bad.gguf');
  writeFileSync(path, bytes);
  assert.throws(
    () => readGGUFHeader(path),
    (e: unknown) => e instanceof CheckpointError && pattern.test(e.message),
    `expected ${pattern}`,
  );
}

test('hostile headers give a CheckpointError naming the problem, before any large allocation', () => {
  expectCorrupt(Buffer.from('GGU'), /does not start with "GGUF"/);
  expectCorrupt(Buffer.from('LAMA\x03\x00\x00\x00'), /does not start with "GGUF"/);
  expectCorrupt(handmade({ version: 1 }), /version 1 is not supported/);
  expectCorrupt(handmade({ version: 0x03000000 }), /big-endian/);
  expectCorrupt(handmade({ tensors: 2 ** 40 }), /cannot fit/);
  expectCorrupt(Buffer.concat([handmade({ kvs: 1 }).subarray(0, 16), u64(BigInt(2) ** BigInt(63))]), /beyond any real file/);
  expectCorrupt(handmade({ kvs: 1, body: Buffer.concat([u64(2 ** 40), Buffer.alloc(16)]) }), /claims \d+ bytes, more than|runs past the end/);
  expectCorrupt(handmade({ kvs: 1, body: Buffer.concat([str('k'), u32(99), Buffer.alloc(8)]) }), /unknown value type 99/);
  expectCorrupt(handmade({ kvs: 1, body: Buffer.concat([str('k'), u32(9), u32(6), u64(1e9), Buffer.alloc(8)]) }), /claims 1000000000 items/);
  expectCorrupt(handmade({ kvs: 1, body: Buffer.concat([str('k'), u32(9), u32(9), u64(1), Buffer.alloc(8)]) }), /array of arrays/);
  expectCorrupt(handmade({ kvs: 1, body: Buffer.concat([str('k'), u32(7), Buffer.from([2]), Buffer.alloc(12)]) }), /bool holding 2/);
  expectCorrupt(handmade({ kvs: 2, body: Buffer.concat([str('k'), u32(4), u32(1), str('k'), u32(4), u32(1)]) }), /appears twice/);
  expectCorrupt(handmade({ kvs: 1, body: Buffer.concat([str('general.alignment'), u32(4), u32(24), Buffer.alloc(8)]) }), /power of two/);
  const oneTensor = (info: Buffer, data: number) => handmade({ tensors: 1, body: Buffer.concat([info, Buffer.alloc(32 - ((24 + info.length) % 32)), Buffer.alloc(data)]) });
  expectCorrupt(oneTensor(tensorInfo('t', [4], 0, 0), 8), /ends at byte 16 of the data section, which holds 8/);
  expectCorrupt(oneTensor(tensorInfo('t', [4], 77, 0), 16), /unknown ggml type 77/);
  expectCorrupt(oneTensor(tensorInfo('t', [1, 1, 1, 1, 1], 0, 0), 16), /5 dimensions/);
  expectCorrupt(oneTensor(tensorInfo('t', [4], 0, 3), 16), /not a multiple of the alignment/);
  expectCorrupt(oneTensor(tensorInfo('t', [40], 8, 0), 64), /not whole Q8_0 blocks/);
  expectCorrupt(oneTensor(tensorInfo('t', [2 ** 26, 2 ** 26, 2 ** 26], 0, 0), 16), /too many|ends at byte/);
  const two = Buffer.concat([tensorInfo('a', [8], 0, 0), tensorInfo('b', [8], 0, 0)]);
  expectCorrupt(handmade({ tensors: 2, body: Buffer.concat([two, Buffer.alloc(32 - ((24 + two.length) % 32)), Buffer.alloc(64)]) }), /overlap/);
  // A valid file cut short.
  const { path } = sampleFile();
  const whole = readFileSync(path);
  expectCorrupt(whole.subarray(0, whole.length - 100), /ends at byte \d+ of the data section/);
  expectCorrupt(whole.subarray(0, 200), /runs past the end|cannot fit/);
});

test('fuzz: mutated files either parse to a consistent header or throw CheckpointError', () => {
  const { path } = sampleFile();
  const original = readFileSync(path);
  const headerEnd = readGGUFHeader(path).dataStart;
  const gen = new Generator(2025);
  for (let iter = 0; iter < 3000; iter++) {
    const bytes = Buffer.from(original);
    const edits = 1 + Math.floor(gen.uniform() * 4);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(gen.uniform() * headerEnd);
      const kind = gen.uniform();
      if (kind < 0.6) bytes[at] = Math.floor(gen.uniform() * 256);
      else if (kind < 0.8) bytes[at] = [0, 1, 0xff, 0x7f, 0x80][Math.floor(gen.uniform() * 5)];
      else bytes.fill(0xff, at, Math.min(bytes.length, at + 8));
    }
    const cut = gen.uniform() < 0.2 ? bytes.subarray(0, Math.floor(gen.uniform() * bytes.length)) : bytes;
    try {
      const parsed = parseGGUF(cut);
      for (const t of parsed.tensors.values()) assert.ok(parsed.dataStart + t.offset + t.byteLength <= cut.length, `iteration ${iter}: ${t.name} inside the file`);
    } catch (e) {
      assert.ok(e instanceof CheckpointError, `iteration ${iter}: ${(e as Error).constructor.name}: ${(e as Error).message}`);
    }
  }
});
