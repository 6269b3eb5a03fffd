import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel } from 'node-llama-cpp';
import { HFTokenizer, writeGGUF, type GGUFFloatType, type GGUFTensorToWrite, type GGUFValue } from '../../src/io/index.js';
import { loadPretrained, modelToGGUF, type CausalLM } from '../../src/models/index.js';
import { adapterToGGUF, loadPeftModel } from '../../src/peft/index.js';
import { Tensor } from '../../src/tensor/index.js';
import { fixtureWithGpt2Tokenizer, runCli, tempDir } from '../cli.js';
import { repoRoot } from '../helpers.js';

/**
 * The real llama.cpp (node-llama-cpp's prebuilt CPU binary) runs what `peft-ts export gguf` writes:
 * the base model, the base with the LoRA adapter applied by llama.cpp, and the merged model. Each
 * must give the next-token distribution peft-ts gives for the same token ids, and in f32 the same
 * greedy continuation token for token.
 */

/** Largest |log p_llama - log p_peft| allowed over the whole vocabulary, per stored type (measured maxima are in the report). */
const LOGPROB_TOLERANCE = { f32: 5e-3, f16: 1e-2, bf16: 5e-2, q8_0: 1e-1 } as const;
const GREEDY_TOKENS = 12;

// One llama.cpp thread: on a busy 2-core machine two spinning threads made each token take ~1 s instead of ~10 ms.
let llama: Llama;
before(async () => {
  llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, usePrebuiltBinaries: true, logLevel: LlamaLogLevel.error, maxThreads: 1 });
});
after(async () => {
  await llama?.dispose();
});

function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(logits, (v) => v - lse);
}

const argmax = (v: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
};

/** peft-ts's logits for the last position of `ids`. */
function peftLastLogits(model: CausalLM, ids: number[]): Float32Array {
  const logits = model.forward({ inputIds: Tensor.from(ids, [1, ids.length], 'int32') });
  const vocab = logits.shape[2];
  return logits.contiguousData().slice((ids.length - 1) * vocab, ids.length * vocab);
}

function peftGreedy(model: CausalLM, ids: number[], n: number): number[] {
  const seq = [...ids];
  for (let i = 0; i < n; i++) seq.push(argmax(peftLastLogits(model, seq)));
  return seq.slice(ids.length);
}

/** llama.cpp's next-token logits after `ids`, and its own greedy continuation (temperature 0). */
async function llamaCpp(model: LlamaModel, lora: string | null, prompts: number[][], greedy: boolean): Promise<{ logits: Float64Array[]; continuations: number[][] }> {
  const context = await model.createContext({ contextSize: 128, threads: 1, ...(lora ? { lora: { adapters: [{ filePath: lora }] } } : {}) });
  try {
    const sequence = context.getSequence();
    const logits: Float64Array[] = [],
      continuations: number[][] = [];
    for (const ids of prompts) {
      await sequence.clearHistory();
      const input = ids.map((t) => t as never);
      const out = await sequence.controlledEvaluate([...input.slice(0, -1), [input.at(-1)!, { generateNext: { logits: true, token: true, options: { temperature: 0 } } }]]);
      const next = out.at(-1)!.next;
      const dense = new Float64Array(next.logits!.size);
      for (const [token, value] of next.logits!) dense[token as unknown as number] = value;
      logits.push(dense);
      if (!greedy) continue;
      const generated = [next.token as unknown as number];
      while (generated.length < GREEDY_TOKENS) {
        const step = await sequence.controlledEvaluate([[generated.at(-1)! as never, { generateNext: { token: true, options: { temperature: 0 } } }]]);
        generated.push(step.at(-1)!.next.token as unknown as number);
      }
      continuations.push(generated);
    }
    return { logits, continuations };
  } finally {
    await context.dispose();
  }
}

function maxLogProbDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const la = logSoftmax(a),
    lb = logSoftmax(b);
  let worst = 0;
  for (let i = 0; i < la.length; i++) worst = Math.max(worst, Math.abs(la[i] - lb[i]));
  return worst;
}

/** Token-id prompts drawn from the ordinary tokens (below the special token at the end of the vocabulary). */
function prompts(vocab: number): number[][] {
  let state = 12345;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % (vocab - 1);
  };
  return [4, 9, 17].map((n) => Array.from({ length: n }, next));
}

/** Trains a LoRA adapter for a few steps with `peft-ts train`, on text the tokenizer handles. */
function trainAdapter(modelDir: string, extra: string[]): string {
  const dir = tempDir('gguf');
  const data = join(dir, 'train.jsonl');
  const rows = Array.from({ length: 16 }, (_, i) => ({ text: `the ${['cat', 'dog', 'bird', 'fish'][i % 4]} sat on mat number ${i} and said hello.` }));
  writeFileSync(data, rows.map((r) => JSON.stringify(r)).join('\n'));
  const out = join(dir, 'adapter');
  const r = runCli(
    'train',
    '--model',
    modelDir,
    '--data',
    data,
    '--text-field',
    'text',
    '--out',
    out,
    '--max-steps',
    '4',
    '--batch-size',
    '4',
    '--lr',
    '5e-2',
    '--validation-fraction',
    '0',
    '--seed',
    '3',
    ...extra,
  );
  assert.equal(r.code, 0, r.stderr);
  return out;
}

/**
 * What `peft-ts export gguf` writes (base, adapter, --merge), made by the library calls the command
 * makes, in this process: a CLI start costs seconds on a busy machine. test/e2e/export-cli.test.ts runs the command itself.
 */
function exportAll(modelDir: string, adapterDir: string, type: GGUFFloatType): { base: string; adapter: string; merged: string } {
  const dir = tempDir('gguf');
  const tokenizer = HFTokenizer.fromDir(modelDir);
  const files = { json: tokenizer.json, config: tokenizer.config };
  const write = (name: string, content: { metadata: Map<string, GGUFValue>; tensors: GGUFTensorToWrite[] }) => {
    writeGGUF(join(dir, name), content.metadata, content.tensors);
    return join(dir, name);
  };
  return {
    base: write('base.gguf', modelToGGUF(loadPretrained(modelDir).model, { type, name: 'base', tokenizer: files })),
    adapter: write('adapter.gguf', adapterToGGUF(loadPeftModel(loadPretrained(modelDir).model, adapterDir), 'default', { type, name: 'adapter' })),
    merged: write('merged.gguf', modelToGGUF(loadPeftModel(loadPretrained(modelDir).model, adapterDir).mergeAndUnload(), { type, name: 'merged', tokenizer: files })),
  };
}

/** Llama 3's and Qwen2's pre-tokenizer regexes as their tokenizer.json files hold them (they differ in digit runs: 1-3 vs 1). */
const LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** A tiny fixture whose byte-level BPE splits text with `regex` first, as Llama 3's and Qwen2's tokenizers do. */
function withSplitPreTokenizer(fixture: string, regex: string): string {
  const dir = fixtureWithGpt2Tokenizer(fixture);
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  json.pre_tokenizer = {
    type: 'Sequence',
    pretokenizers: [
      { type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    ],
  };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
  return dir;
}

const TEXTS = ["Hello world! It's 2024-11-28, and I'LL pay $12345.67 for 3 cats.", 'Indented\n\n    spaces\tand tabs  ', 'Café naïve, 東京 🙂'];

const CASES = [
  { name: 'llama-tiny', dir: () => withSplitPreTokenizer('llama-tiny', LLAMA3_SPLIT), train: ['--target-modules', 'all-linear', '--r', '4', '--lora-alpha', '8'] },
  { name: 'qwen2-tiny', dir: () => withSplitPreTokenizer('qwen2-tiny', QWEN2_SPLIT), train: ['--target-modules', 'q_proj,k_proj,v_proj,o_proj', '--r', '4', '--lora-alpha', '16', '--use-rslora'] },
  { name: 'models/default (GPT-2)', dir: () => join(repoRoot, 'models', 'default'), train: ['--target-modules', 'c_attn,c_proj,c_fc', '--r', '8', '--lora-alpha', '16'] },
];

for (const c of CASES) {
  describe(`llama.cpp runs peft-ts's GGUF export of ${c.name}`, () => {
    const modelDir = c.dir();
    const adapterDir = trainAdapter(modelDir, c.train);
    const base = loadPretrained(modelDir).model as CausalLM;
    const adapted = loadPeftModel(loadPretrained(modelDir).model, adapterDir).model as CausalLM;
    const inputs = prompts(base.config.vocabSize);
    const measured: Record<string, number> = {};

    const check = async (label: string, reference: CausalLM, modelFile: string, loraFile: string | null, tolerance: number, greedy: boolean) => {
      const model = await llama.loadModel({ modelPath: modelFile, gpuLayers: 0 });
      try {
        const cpp = await llamaCpp(model, loraFile, inputs, greedy);
        inputs.forEach((ids, i) => {
          const expected = peftLastLogits(reference, ids);
          const diff = maxLogProbDiff(cpp.logits[i], expected);
          measured[label] = Math.max(measured[label] ?? 0, diff);
          assert.ok(diff <= tolerance, `${label}, prompt ${i}: log-probabilities differ by ${diff} (tolerance ${tolerance})`);
          if (greedy) assert.deepEqual(cpp.continuations[i], peftGreedy(reference, ids, GREEDY_TOKENS), `${label}, prompt ${i}: greedy continuation`);
        });
      } finally {
        await model.dispose();
      }
    };

    const f32 = exportAll(modelDir, adapterDir, 'F32');

    test("llama.cpp tokenizes and detokenizes text as peft-ts's tokenizer does", async () => {
      const model = await llama.loadModel({ modelPath: f32.base, gpuLayers: 0 });
      try {
        const tokenizer = HFTokenizer.fromDir(modelDir);
        for (const text of TEXTS) {
          const ids = tokenizer.encode(text, { addSpecialTokens: false });
          assert.deepEqual(model.tokenize(text).map(Number), ids, JSON.stringify(text));
          assert.equal(model.detokenize(ids as never[]), text);
        }
      } finally {
        await model.dispose();
      }
    });
    test('base model, f32: same distribution and greedy continuation', async () => {
      await check('base f32', base, f32.base, null, LOGPROB_TOLERANCE.f32, true);
    });
    test('base model + LoRA adapter applied by llama.cpp, f32: same distribution and greedy continuation', async () => {
      await check('adapter f32', adapted, f32.base, f32.adapter, LOGPROB_TOLERANCE.f32, true);
    });
    test('merged export, f32: same distribution and greedy continuation', async () => {
      await check('merged f32', adapted, f32.merged, null, LOGPROB_TOLERANCE.f32, true);
    });
    for (const type of ['f16', 'bf16', 'q8_0'] as const) {
      test(`base + adapter and merged, stored as ${type}: distribution within ${LOGPROB_TOLERANCE[type]}`, async () => {
        const files = exportAll(modelDir, adapterDir, type.toUpperCase() as GGUFFloatType);
        await check(`adapter ${type}`, adapted, files.base, files.adapter, LOGPROB_TOLERANCE[type], false);
        await check(`merged ${type}`, adapted, files.merged, null, LOGPROB_TOLERANCE[type], false);
      });
    }
    after(() => {
      if (process.env.PEFT_TS_GGUF_REPORT) console.log(`${c.name}: max |delta log p|`, JSON.stringify(measured));
    });
  });
}
