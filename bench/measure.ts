/**
 * One measurement in a fresh process (so its peak RSS is its own, as the peer's is):
 *   node dist/bench/measure.js train|forward|generate|bundled-train --dtype float32|bfloat16 [--batch N]
 * Prints one JSON line. bench/run.ts spawns it; it is not a test.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { getBackend } from '../src/backend/index.js';
import { causalLMLoss, generate, loadPretrained, type CausalLM } from '../src/models/index.js';
import { castFrozenWeights, type WeightDType } from '../src/nn/index.js';
import { PeftModel } from '../src/peft/index.js';
import { Generator, noGrad, Tensor } from '../src/tensor/index.js';
import { AdamW } from '../src/train/index.js';
import { gpt2Small, repoRoot, timeMs } from './util.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { dtype: { type: 'string', default: 'float32' }, batch: { type: 'string', default: '4' } } });
// Before any weights exist, as loadPretrained does (the native backend tunes malloc when it loads).
getBackend();
const mode = positionals[0];
const dtype = values.dtype as WeightDType;
const batch = Number(values.batch);

function randomIds(b: number, t: number, vocab: number, gen: Generator): Tensor {
  return Tensor.from(
    Array.from({ length: b * t }, () => Math.floor(gen.uniform() * vocab)),
    [b, t],
    'int32',
  );
}

/** LoRA steps as the peer runs them: labels = inputs shifted (HF's loss), AdamW on the adapter. */
function trainSteps(model: CausalLM, targetModules: string[], r: number, b: number, t: number): { tokensPerS: number; loss: number } {
  const peft = new PeftModel(model);
  peft.addAdapter('default', { r, lora_alpha: 2 * r, target_modules: targetModules });
  castFrozenWeights(model, dtype); // after wrapping, so only the frozen base changes
  const opt = new AdamW(
    model.trainableParameters().map(([, p]) => p),
    { lr: 2e-4, weightDecay: 0.01 },
  );
  const ids = randomIds(b, t, model.config.vocabSize, new Generator(3));
  const src = ids.int32Data();
  const targets = new Tensor(
    Int32Array.from({ length: b * t }, (_, i) => (i % t === t - 1 ? -100 : src[i + 1])),
    [b, t],
  );
  model.train();
  let loss = 0;
  const ms = timeMs(
    () => {
      const l = causalLMLoss(model, { inputIds: ids }, targets);
      l.backward();
      opt.update();
      opt.zeroGrad();
      loss = l.item();
    },
    { warmup: 2, iters: 6 },
  );
  return { tokensPerS: (b * t) / (ms / 1000), loss };
}

/** The model the peer runs forward and generation with: GPT-2 small with LoRA r=8 on c_attn (unmerged), frozen weights in `dtype`. */
function peerModel(): CausalLM {
  const model = gpt2Small();
  new PeftModel(model).addAdapter('default', { r: 8, lora_alpha: 16, target_modules: ['c_attn'] });
  castFrozenWeights(model, dtype);
  return model;
}

function result(extra: Record<string, unknown>): void {
  console.log(JSON.stringify({ mode, dtype, threads: getBackend().threads, backend: getBackend().name, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), ...extra }));
}

if (mode === 'train') {
  const { tokensPerS, loss } = trainSteps(gpt2Small(), ['c_attn'], 8, batch, 128);
  result({ batch, seq: 128, tokens_per_s: tokensPerS, loss_last: loss });
} else if (mode === 'bundled-train') {
  // The demo's setting on the bundled model: LoRA r=16 on every linear layer.
  const { model } = loadPretrained(join(repoRoot, 'models', 'default'), { dtype: 'float32' });
  const { tokensPerS, loss } = trainSteps(model as CausalLM, ['c_attn', 'c_proj', 'c_fc'], 16, batch, 128);
  result({ batch, seq: 128, tokens_per_s: tokensPerS, loss_last: loss });
} else if (mode === 'forward') {
  const model = peerModel();
  const ids = randomIds(batch, 128, 50257, new Generator(1));
  const ms = timeMs(() => noGrad(() => model.forward({ inputIds: ids })), { warmup: 1, iters: 3 });
  result({ batch, seq: 128, tokens_per_s: (batch * 128) / (ms / 1000) });
} else if (mode === 'generate') {
  const model = peerModel();
  const gen = new Generator(1);
  const prompts = Array.from({ length: batch }, () => Array.from(randomIds(1, 32, 50257, gen).int32Data()));
  const ms = timeMs(() => generate(model, prompts, { maxNewTokens: 64, eosTokenId: -1 }), { warmup: 1, iters: 3 });
  result({ batch, prompt: 32, new_tokens: 64, tokens_per_s: (batch * 64) / (ms / 1000) });
} else {
  console.error('usage: node dist/bench/measure.js train|forward|generate|bundled-train --dtype float32|bfloat16 [--batch N]');
  process.exit(2);
}
