import { createBackend, setBackend } from '../src/backend/index.js';
import { generate, GPT2LMHeadModel, initGPT2, type GPT2Config } from '../src/models/index.js';
import { Generator, noGrad, Tensor } from '../src/tensor/index.js';
import { torchBench, torchMissingNote } from './torch-reference.js';
import { table, timeMs } from './util.js';

/** GPT-2 small's shape (124M parameters), randomly initialised as the PyTorch reference does. */
export function gpt2Small(): GPT2LMHeadModel {
  const config: GPT2Config = {
    modelType: 'gpt2', vocabSize: 50257, hiddenSize: 768, numLayers: 12, nHead: 12, maxPositions: 1024,
    layerNormEpsilon: 1e-5, activation: 'tanh', embdPdrop: 0, residPdrop: 0, tieWordEmbeddings: true, raw: {},
  };
  return initGPT2(new GPT2LMHeadModel(config), new Generator(0));
}

function randomIds(batch: number, t: number, gen: Generator): Tensor {
  return Tensor.from(Array.from({ length: batch * t }, () => Math.floor(gen.uniform() * 50257)), [batch, t], 'int32');
}

export function benchModels(threads: number): string {
  setBackend(createBackend('native'));
  const model = gpt2Small();
  const gen = new Generator(1);
  const ids = randomIds(4, 128, gen);
  const fwdMs = timeMs(() => noGrad(() => model.forward({ inputIds: ids })), { warmup: 1, iters: 3 });
  const prompt = Array.from(randomIds(1, 32, gen).int32Data());
  const genMs = timeMs(() => generate(model, [prompt], { maxNewTokens: 64, eosTokenId: -1 }), { warmup: 1, iters: 3 });
  const ours = { forward: (4 * 128) / (fwdMs / 1000), generate: 64 / (genMs / 1000) };

  const torchFwd = torchBench(['--config', 'gpt2', '--mode', 'forward', '--batch', '4', '--seq', '128', '--steps', '3', '--warmup', '1'], threads);
  const torchGen = torchBench(['--config', 'gpt2', '--mode', 'generate', '--prompt', '32', '--new-tokens', '64', '--steps', '3', '--warmup', '1'], threads);
  const rows: (string | number)[][] = [['GPT-2 small (124M), float32', 'peft-ts tokens/s', 'PyTorch tokens/s', 'peft-ts / PyTorch']];
  const row = (name: string, mine: number, theirs: number | undefined) => rows.push([name, mine, theirs ?? 'n/a', theirs ? `${(mine / theirs).toFixed(2)}x` : 'n/a']);
  row('forward, batch 4 x 128', ours.forward, torchFwd ? Number(torchFwd.tokens_per_s) : undefined);
  row('greedy generation, batch 1, 32-token prompt, 64 new', ours.generate, torchGen ? Number(torchGen.tokens_per_s) : undefined);
  return table(rows) + (torchFwd ? `\n(PyTorch ${torchFwd.torch}, ${torchFwd.threads} threads)` : `\n${torchMissingNote}`);
}
