// Runs one fuzz target in its own process (so that a crash is a signal the parent sees):
//   node dist/test/fuzz/worker.js TARGET SEED COUNT
// Prints "case N: what" before each mutation and "outcome N: ok|error CODE|bad MESSAGE" after it.
import { writeSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PeftTsError } from '../../src/errors.js';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { HFTokenizer } from '../../src/io/tokenizer.js';
import { readRecords } from '../../src/data/index.js';
import { loadPretrained, type PretrainedModel } from '../../src/models/index.js';
import { loadAdapter, PeftModel } from '../../src/peft/index.js';
import { Generator, noGrad, Tensor } from '../../src/tensor/index.js';
import { encodeRecords } from '../../src/train/index.js';
import { fixturesDir } from '../helpers.js';
import { wordTokenizerJson } from '../cli.js';

const [target, seedArg, countArg] = process.argv.slice(2);
const gen = new Generator(Number(seedArg));
const count = Number(countArg);
const work = mkdtempSync(join(tmpdir(), `peft-ts-fuzz-${target}-`));

const say = (line: string) => writeSync(1, `${line}\n`);
const int = (n: number) => Math.floor(gen.uniform() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];

/** Values a careless or hostile file puts where a field was. */
const HOSTILE: unknown[] = [
  0,
  -1,
  1,
  2,
  3,
  7,
  1.5,
  -0.5,
  1e9,
  1e308,
  -1e308,
  2 ** 31 - 1,
  2 ** 32 + 5,
  2 ** 53 + 1,
  '',
  'relu',
  'bogus',
  '../../etc/passwd',
  '(a+)+$',
  null,
  true,
  false,
  [],
  [1, 2],
  {},
  { type: 'Bogus' },
  'x'.repeat(10000),
  '{% for i in range(1000000000) %}x{% endfor %}',
];

/** Every path to a value in a JSON tree, skipping inside the named (large) keys. */
function paths(value: unknown, skipInside: string[], prefix: (string | number)[] = []): (string | number)[][] {
  if (!value || typeof value !== 'object') return [prefix];
  const out: (string | number)[][] = prefix.length ? [prefix] : [];
  for (const [k, v] of Object.entries(value)) {
    const key = Array.isArray(value) ? Number(k) : k;
    if (skipInside.includes(String(k))) out.push([...prefix, key]);
    else out.push(...paths(v, skipInside, [...prefix, key]));
  }
  return out;
}

/** A copy of `json` with one field replaced by a hostile value, deleted, or given a sibling. */
function mutateJson(json: unknown, skipInside: string[] = []): { value: unknown; what: string } {
  const copy = structuredClone(json) as Record<string, unknown>;
  const path = pick(paths(copy, skipInside));
  if (path.length === 0) return { value: pick(HOSTILE), what: 'whole file replaced' };
  let parent: any = copy;
  for (const k of path.slice(0, -1)) parent = parent[k];
  const last = path[path.length - 1];
  const action = int(10);
  if (action === 0 && !Array.isArray(parent)) {
    delete parent[last];
    return { value: copy, what: `deleted ${path.join('.')}` };
  }
  const v = pick(HOSTILE);
  parent[last] = v;
  return { value: copy, what: `${path.join('.')} = ${JSON.stringify(v)?.slice(0, 60)}` };
}

function run(i: number, what: string, fn: () => void): void {
  say(`case ${i}: ${what}`);
  try {
    fn();
    say(`outcome ${i}: ok`);
  } catch (error) {
    if (error instanceof PeftTsError && !error.message.includes('\n')) say(`outcome ${i}: error ${error.code}`);
    else
      say(
        `outcome ${i}: bad ${String((error as Error)?.stack ?? error)
          .split('\n')
          .slice(0, 3)
          .join(' | ')
          .slice(0, 400)}`,
      );
  }
}

const ids = Tensor.from([1, 2, 3, 4], [1, 4], 'int32');
function forward(model: PretrainedModel | PeftModel): void {
  noGrad(() => (model as PeftModel).forward({ inputIds: ids } as never));
}

function modelFolder(name: string): string {
  const dir = mkdtempSync(join(work, 'model-'));
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(fixturesDir, name, f), join(dir, f));
  return dir;
}

const targets: Record<string, () => void> = {
  /** Byte-level mutations of a checkpoint: flips, overwrites, insertions, deletions, truncations, mostly in the header. */
  safetensors() {
    const original = readFileSync(join(fixturesDir, 'gpt2-tiny', 'model.safetensors'));
    const headerEnd = 8 + Number(original.readBigUInt64LE(0));
    const dir = modelFolder('gpt2-tiny');
    const path = join(dir, 'model.safetensors');
    for (let i = 0; i < count; i++) {
      let bytes = Buffer.from(original);
      const at = int(4) === 0 ? int(bytes.length) : int(headerEnd);
      const kind = int(6);
      let what: string;
      if (kind === 0) {
        bytes[at] ^= 1 << int(8);
        what = `flip bit at ${at}`;
      } else if (kind === 1) {
        bytes[at] = pick([0x22, 0x2c, 0x5b, 0x5d, 0x7b, 0x7d, 0x30, 0x39, 0x2d, 0x00, 0xff, 0x20]);
        what = `byte ${at} = ${bytes[at]}`;
      } else if (kind === 2) {
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([int(256)]), bytes.subarray(at)]);
        what = `insert at ${at}`;
      } else if (kind === 3) {
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + int(8))]);
        what = `delete at ${at}`;
      } else if (kind === 4) {
        bytes = bytes.subarray(0, at);
        what = `truncate to ${at}`;
      } else {
        const digit = 0x30 + int(10);
        bytes[at] = digit;
        what = `digit ${String.fromCharCode(digit)} at ${at}`;
      }
      writeFileSync(path, bytes);
      // Every tenth case goes all the way through the model and the native kernels.
      run(
        i,
        what,
        i % 10 === 0
          ? () => forward(loadPretrained(dir).model)
          : () => {
              loadSafetensors(path);
            },
      );
    }
  },
  /** Field mutations of config.json for each architecture, then a forward pass. */
  config() {
    for (let i = 0; i < count; i++) {
      const name = pick(['gpt2-tiny', 'llama-tiny', 'qwen2-tiny', 'bert-tiny']);
      const dir = modelFolder(name);
      const m = mutateJson(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
      writeFileSync(join(dir, 'config.json'), JSON.stringify(m.value));
      run(i, `${name}: ${m.what}`, () => forward(loadPretrained(dir).model));
      rmSync(dir, { recursive: true, force: true });
    }
  },
  /** Mutations anywhere in tokenizer.json (and the chat template of tokenizer_config.json), then encode, decode and render. */
  tokenizer() {
    const base = wordTokenizerJson();
    const config = { eos_token: 'w999', chat_template: '{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}' };
    for (let i = 0; i < count; i++) {
      const onConfig = int(5) === 0;
      const m = onConfig ? mutateJson(config) : mutateJson(base, ['vocab']);
      run(i, `${onConfig ? 'tokenizer_config' : 'tokenizer'}: ${m.what}`, () => {
        const t = onConfig ? new HFTokenizer(base, m.value as never) : new HFTokenizer(m.value as never, config);
        const encoded = t.encode('w1 w2 w3 w999');
        t.decode(encoded);
        if (onConfig)
          t.applyChatTemplate([
            { role: 'user', content: 'w1' },
            { role: 'assistant', content: 'w2' },
          ]);
      });
    }
  },
  /** Field mutations of adapter_config.json, loaded onto gpt2-tiny and run. */
  adapter() {
    const original = JSON.parse(readFileSync(join(fixturesDir, 'gpt2-tiny-lora', 'adapter_config.json'), 'utf8'));
    const model = loadPretrained(join(fixturesDir, 'gpt2-tiny')).model;
    for (let i = 0; i < count; i++) {
      const dir = mkdtempSync(join(work, 'adapter-'));
      copyFileSync(join(fixturesDir, 'gpt2-tiny-lora', 'adapter_model.safetensors'), join(dir, 'adapter_model.safetensors'));
      const m = mutateJson(original);
      writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(m.value));
      run(i, m.what, () => {
        const peft = new PeftModel(model);
        loadAdapter(peft, dir, 'default');
        forward(peft);
      });
      rmSync(dir, { recursive: true, force: true });
    }
  },
  /** Data files: fields of other types, broken lines, flipped bytes, in JSONL, JSON and CSV; then encoded for training. */
  data() {
    const tokenizer = new HFTokenizer(wordTokenizerJson(), { eos_token: 'w999' });
    const rows = Array.from({ length: 6 }, (_, i) => ({ prompt: `w${i} w${i + 1}`, completion: ` w${i + 2}` }));
    for (let i = 0; i < count; i++) {
      const format = pick(['jsonl', 'json', 'csv']);
      const mutated = rows.map((r) => ({ ...r }));
      const m = mutateJson(mutated);
      let text =
        format === 'jsonl'
          ? Array.isArray(m.value)
            ? m.value.map((r) => JSON.stringify(r)).join('\n')
            : JSON.stringify(m.value)
          : format === 'json'
            ? JSON.stringify(m.value)
            : ['prompt,completion', ...rows.map((r) => `"${r.prompt}","${r.completion}"`)].join('\n');
      if (int(3) === 0 && text.length) {
        const at = int(text.length);
        text = text.slice(0, at) + pick(['"', ',', '\n', '{', '}', '\u0000', '']) + text.slice(at + 1);
      }
      const path = join(work, `d${i}.${format}`);
      writeFileSync(path, text);
      run(i, `${format}: ${m.what}`, () => {
        encodeRecords(readRecords(path), tokenizer, {}, 16);
      });
    }
  },
};

if (!targets[target]) throw new Error(`unknown fuzz target ${target}`);
targets[target]();
rmSync(work, { recursive: true, force: true });
