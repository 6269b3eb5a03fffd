import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturesDir } from '../../test/helpers.js';
import { CheckpointError, ConfigError } from '../errors.js';
import { Generator, Tensor } from '../tensor/index.js';
import { loadSafetensors, parseHeader, readHeader, saveSafetensors } from './safetensors.js';
import { loadPretrained } from '../models/load.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'peft-ts-st-'));

/** A safetensors file from a header object and a data section of `dataBytes` bytes. */
function rawFile(header: unknown, dataBytes: number, headerLenOverride?: number): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerLenOverride ?? json.length));
  return Buffer.concat([len, json, Buffer.alloc(dataBytes)]);
}

function expectCorrupt(bytes: Buffer, pattern: RegExp): void {
  const path = join(tmp(), 'bad.safetensors');
  writeFileSync(path, bytes);
  assert.throws(
    () => loadSafetensors(path),
    (e: unknown) => e instanceof CheckpointError && pattern.test(e.message),
    `expected ${pattern}`,
  );
}

test('round trip: F32, I32, I64, F16 and BF16 storage', () => {
  const dir = tmp();
  const gen = new Generator(1);
  const a = Tensor.randn([3, 5], gen),
    ids = Tensor.from([1, -2, 3], [3], 'int32');
  saveSafetensors(join(dir, 'a.safetensors'), { b_weight: a, a_ids: ids }, { format: 'pt' });
  const back = loadSafetensors(join(dir, 'a.safetensors'));
  assert.deepEqual(back.get('b_weight')!.toArray(), a.toArray());
  assert.deepEqual(back.get('a_ids')!.toArray(), [1, -2, 3]);
  assert.deepEqual(readHeader(join(dir, 'a.safetensors')).metadata, { format: 'pt' });
  saveSafetensors(join(dir, 'i64.safetensors'), { ids }, undefined, { intDType: 'I64' });
  assert.equal(readHeader(join(dir, 'i64.safetensors')).tensors.get('ids')!.dtype, 'I64');
  assert.deepEqual(loadSafetensors(join(dir, 'i64.safetensors')).get('ids')!.toArray(), [1, -2, 3]);
  for (const floatDType of ['F16', 'BF16'] as const) {
    saveSafetensors(join(dir, 'h.safetensors'), { a }, undefined, { floatDType });
    const h = loadSafetensors(join(dir, 'h.safetensors')).get('a')!.toArray();
    const tol = floatDType === 'F16' ? 2e-3 : 1.6e-2;
    h.forEach((v, i) => assert.ok(Math.abs(v - a.toArray()[i]) <= tol * Math.abs(a.toArray()[i]) + 1e-6, `${floatDType} element ${i}`));
  }
});

test('header keys are sorted and 8-byte aligned, as the reference writer does', () => {
  const path = join(tmp(), 's.safetensors');
  saveSafetensors(path, { z: Tensor.zeros([1]), a: Tensor.zeros([2]) });
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal(n % 8, 0);
  assert.deepEqual(Object.keys(JSON.parse(bytes.subarray(8, 8 + n).toString())), ['a', 'z']);
});

test('corrupt files give a CheckpointError naming the problem', () => {
  const entry = (start: number, end: number, shape = [2], dtype = 'F32') => ({ dtype, shape, data_offsets: [start, end] });
  expectCorrupt(Buffer.alloc(5), /fewer than the 8-byte header length/);
  expectCorrupt(rawFile({ a: entry(0, 8) }, 8, 1 << 30), /claims \d+ bytes but the file has/);
  expectCorrupt(rawFile({ a: entry(0, 8) }, 4), /ends at byte 8 but the data section holds 4/);
  expectCorrupt(rawFile({ a: entry(0, 8), b: entry(4, 12) }, 12), /overlap/);
  expectCorrupt(rawFile({ a: entry(0, 12) }, 12), /needs 8 bytes but its offsets span 12/);
  expectCorrupt(rawFile({ a: entry(0, 8, [2], 'Q9') }, 8), /unsupported dtype/);
  expectCorrupt(rawFile({ a: entry(8, 0) }, 8), /invalid data_offsets/);
  expectCorrupt(rawFile({ a: entry(0, 8, [-2]) }, 8), /invalid shape/);
  expectCorrupt(Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"a"')]), /not valid JSON/);
  // A valid file cut short.
  const path = join(tmp(), 'ok.safetensors');
  saveSafetensors(path, { w: Tensor.ones([64]) });
  expectCorrupt(readFileSync(path).subarray(0, readFileSync(path).length - 10), /ends at byte 256 but the data section holds 246/);
});

test('pickle checkpoints are refused with the conversion recipe', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'pytorch_model.bin'), 'not a pickle');
  assert.throws(
    () => loadSafetensors(join(dir, 'pytorch_model.bin')),
    (e: unknown) => e instanceof CheckpointError && /pickle/.test(e.message) && /save_file/.test(e.message),
  );
});

test('fuzz: mutated headers either parse to a consistent header or throw CheckpointError', () => {
  const gen = new Generator(2024);
  const header = Buffer.from(JSON.stringify({ __metadata__: { format: 'pt' }, a: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] }, b: { dtype: 'BF16', shape: [4], data_offsets: [24, 32] } }));
  const fileSize = 8 + header.length + 32;
  for (let iter = 0; iter < 3000; iter++) {
    const bytes = Buffer.from(header);
    const edits = 1 + Math.floor(gen.uniform() * 4);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(gen.uniform() * bytes.length);
      const kind = gen.uniform();
      if (kind < 0.5) bytes[at] = Math.floor(gen.uniform() * 256);
      else if (kind < 0.8) bytes[at] = '0123456789[]{},:"-e.'.charCodeAt(Math.floor(gen.uniform() * 20));
      else bytes.fill(0x20, at, Math.min(bytes.length, at + 3));
    }
    const cut = gen.uniform() < 0.2 ? bytes.subarray(0, Math.floor(gen.uniform() * bytes.length)) : bytes;
    try {
      const parsed = parseHeader(cut, fileSize);
      for (const [, info] of parsed.tensors) assert.ok(info.end <= fileSize - parsed.dataStart && info.start <= info.end);
    } catch (e) {
      assert.ok(e instanceof CheckpointError, `iteration ${iter}: ${(e as Error).constructor.name}: ${(e as Error).message}`);
    }
  }
});

test('float16 checkpoints load as float32; bfloat16 ones keep bfloat16 matrix weights (float32 when asked), same values', () => {
  const source = loadSafetensors(join(fixturesDir, 'llama-tiny', 'model.safetensors'));
  for (const floatDType of ['BF16', 'F16'] as const) {
    const dir = tmp();
    copyFileSync(join(fixturesDir, 'llama-tiny', 'config.json'), join(dir, 'config.json'));
    saveSafetensors(join(dir, 'model.safetensors'), source, undefined, { floatDType });
    const upcast = loadSafetensors(join(dir, 'model.safetensors'));
    for (const dtype of ['auto', 'float32'] as const) {
      const { model } = loadPretrained(dir, { dtype });
      for (const [name, t] of model.stateDict()) {
        const keptBf16 = floatDType === 'BF16' && dtype === 'auto' && t.ndim === 2;
        assert.equal(t.dtype, keptBf16 ? 'bfloat16' : 'float32', `${floatDType} ${dtype} ${name}`);
        assert.deepEqual(t.toArray(), upcast.get(name)!.toArray(), `${floatDType} ${dtype} ${name}`);
      }
    }
  }
});

test('a model with bfloat16 weights saves them as BF16 unchanged', () => {
  const { model } = loadPretrained(join(fixturesDir, 'gpt2-tiny'), { dtype: 'bfloat16' });
  const path = join(tmp(), 'model.safetensors');
  saveSafetensors(path, model.stateDict());
  const header = readHeader(path);
  const back = loadSafetensors(path);
  for (const [name, t] of model.stateDict()) {
    assert.equal(header.tensors.get(name)!.dtype, t.dtype === 'bfloat16' ? 'BF16' : 'F32', name);
    assert.deepEqual(back.get(name)!.toArray(), t.toArray(), name);
  }
});

test('an unknown load dtype is a ConfigError naming the accepted ones', () => {
  assert.throws(
    () => loadPretrained(join(fixturesDir, 'gpt2-tiny'), { dtype: 'fp8' as never }),
    (e: unknown) => e instanceof ConfigError && /'fp8'/.test(e.message) && /auto, float32, bfloat16/.test(e.hint ?? ''),
  );
});

test('a config without a required field is a ConfigError naming the field', () => {
  const dir = tmp();
  const raw = JSON.parse(readFileSync(join(fixturesDir, 'gpt2-tiny', 'config.json'), 'utf8'));
  delete raw.n_embd;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(raw));
  copyFileSync(join(fixturesDir, 'gpt2-tiny', 'model.safetensors'), join(dir, 'model.safetensors'));
  assert.throws(
    () => loadPretrained(dir),
    (e: unknown) => e instanceof ConfigError && /'n_embd' is missing/.test(e.message),
  );
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...raw, n_embd: 64, model_type: 'gpt5' }));
  assert.throws(
    () => loadPretrained(dir),
    (e: unknown) => e instanceof ConfigError && /not supported/.test(e.message) && /gpt2, llama/.test(e.message),
  );
});

test('a checkpoint that does not fit the config names the key and shapes', () => {
  const dir = tmp();
  const raw = JSON.parse(readFileSync(join(fixturesDir, 'gpt2-tiny', 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...raw, vocab_size: 999 }));
  copyFileSync(join(fixturesDir, 'gpt2-tiny', 'model.safetensors'), join(dir, 'model.safetensors'));
  assert.throws(
    () => loadPretrained(dir),
    (e: unknown) => e instanceof CheckpointError && /wte\.weight' has shape \[1000, 64\] but the model expects \[999, 64\]/.test(e.message),
  );
});

test('sharded checkpoints load through model.safetensors.index.json', () => {
  const dir = tmp();
  copyFileSync(join(fixturesDir, 'gpt2-tiny', 'config.json'), join(dir, 'config.json'));
  const all = loadSafetensors(join(fixturesDir, 'gpt2-tiny', 'model.safetensors'));
  const keys = [...all.keys()];
  const half = Math.floor(keys.length / 2);
  const shards = [keys.slice(0, half), keys.slice(half)];
  const weightMap: Record<string, string> = {};
  shards.forEach((ks, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    saveSafetensors(join(dir, file), new Map(ks.map((k) => [k, all.get(k)!])));
    ks.forEach((k) => {
      weightMap[k] = file;
    });
  });
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  const { model } = loadPretrained(dir);
  assert.deepEqual(model.stateDict().get('transformer.h.1.mlp.c_fc.weight')!.toArray(), all.get('transformer.h.1.mlp.c_fc.weight')!.toArray());
});

// Issue 12: the Rust loader's rules. Each of these loaded before and gave NaN logits with exit 0.
test('offsets must tile the data section exactly: gaps, overlaps, shifted bytes and trailing bytes are refused', () => {
  const entry = (start: number, end: number) => ({ dtype: 'F32', shape: [2], data_offsets: [start, end] });
  expectCorrupt(rawFile({ a: entry(0, 8), b: entry(9, 17) }, 17), /belong to no tensor/); // a one-byte gap
  expectCorrupt(rawFile({ a: entry(0, 8), b: entry(4, 12) }, 12), /overlaps/);
  expectCorrupt(rawFile({ a: entry(1, 9) }, 9), /bytes 0\.\.1 .* belong to no tensor/); // shifted by one byte
  expectCorrupt(rawFile({ a: entry(0, 8) }, 9), /cover 8 bytes but the data section holds 9/); // an inserted byte
  expectCorrupt(rawFile({ a: entry(0, 8) }, 8 + 4096), /cover 8 bytes/);
  // Zero-size tensors sit anywhere in the sequence, as the Rust loader allows.
  const path = join(tmp(), 'ok.safetensors');
  writeFileSync(path, rawFile({ e: { dtype: 'F32', shape: [0], data_offsets: [8, 8] }, z: { dtype: 'F32', shape: [1 << 20, 1 << 20, 0], data_offsets: [0, 0] }, a: entry(0, 8) }, 8));
  assert.deepEqual([...loadSafetensors(path).keys()].sort(), ['a', 'e', 'z']);
});

test('duplicate names, non-string metadata and a header that is not an object are refused', () => {
  const a = '{"dtype":"F32","shape":[2],"data_offsets":[0,8]}';
  const file = (json: string, data = 8) => {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    return Buffer.concat([len, Buffer.from(json), Buffer.alloc(data)]);
  };
  // JSON.parse keeps the last of two equal keys; the header text is scanned for them.
  expectCorrupt(file(`{"w":${a},"w":${a}}`), /names "w" twice/);
  expectCorrupt(file(`{"w":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}}`), /names "dtype" twice/);
  expectCorrupt(file(`{"w":${a},"__metadata__":{"format":"pt","format":"np"}}`), /names "format" twice/);
  expectCorrupt(file(`{"w":${a},"__metadata__":{"step":3}}`), /__metadata__ is not an object of strings/);
  expectCorrupt(file(`{"w":${a},"__metadata__":["pt"]}`), /__metadata__ is not an object of strings/);
  expectCorrupt(file(`[${a}]`), /not a JSON object/);
  expectCorrupt(file(` {"w":${a}}`), /starting with '\{'/);
  expectCorrupt(file('{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}'), /needs more than 8 bytes/);
  // Escaped quotes and braces inside names do not confuse the scan.
  const path = join(tmp(), 'ok.safetensors');
  writeFileSync(path, file(`{"a\\"}{":${a},"__metadata__":{"k":"v\\\\"}}`));
  assert.deepEqual([...loadSafetensors(path).keys()], ['a"}{']);
});

test('a shard path in model.safetensors.index.json must stay inside the model folder; weight_map must map names to file names', () => {
  const dir = tmp();
  copyFileSync(join(fixturesDir, 'gpt2-tiny', 'config.json'), join(dir, 'config.json'));
  const index = (weightMap: unknown) => writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
  for (const [map, pattern] of [
    [{ 'wte.weight': '../../etc/passwd' }, /outside the model folder/],
    [{ 'wte.weight': '/etc/passwd' }, /outside the model folder/],
    [{ 'wte.weight': '.' }, /outside the model folder/],
    [{ 'wte.weight': 7 }, /not a file name/],
    [['model.safetensors'], /no weight_map object/],
    ['model.safetensors', /no weight_map object/],
  ] as const) {
    index(map);
    assert.throws(
      () => loadPretrained(dir),
      (e: unknown) => e instanceof CheckpointError && pattern.test(e.message),
      JSON.stringify(map),
    );
  }
});

test('temp files of a killed atomic write are swept from the folder on the next write; live ones are kept', () => {
  const dir = tmp();
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout; // a pid that no longer runs
  const stale = `.peft-ts-tmp-${dead}-1700000000000-adapter_model.safetensors`;
  const mine = `.peft-ts-tmp-${process.pid}-1700000000000-other.safetensors`;
  writeFileSync(join(dir, stale), Buffer.alloc(1024));
  mkdirSync(join(dir, `.peft-ts-tmp-${dead}-1700000000000-checkpoint-4`));
  writeFileSync(join(dir, mine), '');
  saveSafetensors(join(dir, 'a.safetensors'), { a: Tensor.zeros([2]) });
  assert.ok(!existsSync(join(dir, stale)));
  assert.ok(existsSync(join(dir, mine)), "this process's own temp files are not swept");
  assert.deepEqual(readdirSync(dir).sort(), [mine, 'a.safetensors'].sort());
});
