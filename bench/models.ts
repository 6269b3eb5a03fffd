import { createBackend, setBackend } from '../src/backend/index.js';
import { generate, GPT2LMHeadModel, initGPT2, type GPT2Config } from '../src/models/index.js';
import { PeftModel } from '../src/peft/index.js';
import { crossEntropy, Generator, noGrad, Tensor } from '../src/tensor/index.js';
import { AdamW } from '../src/train/index.js';
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

/**
 * LoRA fine-tuning throughput on GPT-2 small's shape as the PyTorch reference runs it: batch
 * 4 x 128 random tokens, r=8 on c_attn, AdamW, next-token cross-entropy. Also peak RSS.
 */
export function benchLoraTraining(threads: number): string {
  setBackend(createBackend('native'));
  const model = gpt2Small();
  const peft = new PeftModel(model);
  peft.addAdapter('default', { r: 8, lora_alpha: 16, target_modules: ['c_attn'] });
  const params = model.trainableParameters().map(([, t]) => t);
  const opt = new AdamW(params, { lr: 2e-4, weightDecay: 0.01 });
  const gen = new Generator(3);
  const ids = randomIds(4, 128, gen);
  const targets = new Int32Array(4 * 128).fill(-100);
  const src = ids.int32Data();
  for (let b = 0; b < 4; b++) for (let t = 0; t < 127; t++) targets[b * 128 + t] = src[b * 128 + t + 1];
  const target = new Tensor(targets, [4, 128]);
  model.train();
  const step = () => {
    crossEntropy(model.forward({ inputIds: ids }), target).backward();
    opt.update();
    opt.zeroGrad();
  };
  const ms = timeMs(step, { warmup: 2, iters: 6 });
  const ours = (4 * 128) / (ms / 1000);
  const rssMb = process.resourceUsage().maxRSS / 1024;
  const torch = torchBench(['--config', 'gpt2', '--mode', 'train', '--batch', '4', '--seq', '128', '--steps', '6', '--warmup', '2', '--r', '8'], threads);
  const rows: (string | number)[][] = [['LoRA training, GPT-2 small, batch 4 x 128, r=8 on c_attn', 'tokens/s', 'peak RSS MB'], ['peft-ts (float32)', ours, rssMb]];
  if (torch) rows.push([`PyTorch ${torch.torch} (float32)`, Number(torch.tokens_per_s), Number(torch.peak_rss_mb)]);
  return table(rows) + (torch ? `\npeft-ts / PyTorch: ${(ours / Number(torch.tokens_per_s)).toFixed(2)}x tokens/s` : `\n${torchMissingNote}`);
}
