import { GPT2LMHeadModel, initGPT2, type GPT2Config } from '../src/models/index.js';
import { Generator } from '../src/tensor/index.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout (bench files run from dist/bench/). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Median wall time of fn in milliseconds, after warm-up runs. */
export function timeMs(fn: () => void, { warmup = 3, iters = 5 }: { warmup?: number; iters?: number } = {}): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? c.toFixed(c >= 100 ? 0 : c >= 10 ? 1 : 2) : c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => r.map((c, i) => c.padStart(widths[i])).join('  ')).join('\n');
}

/** GPT-2 small (124M parameters), randomly initialised, as the peer's GPT2Config() defaults. */
export function gpt2Small(): GPT2LMHeadModel {
  const config: GPT2Config = {
    modelType: 'gpt2',
    vocabSize: 50257,
    hiddenSize: 768,
    numLayers: 12,
    nHead: 12,
    maxPositions: 1024,
    layerNormEpsilon: 1e-5,
    activation: 'tanh',
    embdPdrop: 0,
    residPdrop: 0,
    tieWordEmbeddings: true,
    raw: {},
  };
  return initGPT2(new GPT2LMHeadModel(config), new Generator(0));
}
