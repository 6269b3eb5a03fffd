import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturesDir } from '../../test/helpers.js';
import { CheckpointError } from '../errors.js';
import { loadPretrained, type CausalLM } from '../models/index.js';
import { PeftModel, saveAdapters } from '../peft/index.js';
import { Generator, manualSeed } from '../tensor/index.js';
import { causalLMTarget, DEFAULT_TRAIN_CONFIG, trainLoop, TrainingError, type LMExample, type TrainConfig } from './index.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'peft-ts-train-'));

/** gpt2-tiny without its default dropout (0.1), so runs with different batch shapes draw no random masks. */
const noDropoutDir = (() => {
  const dir = tmp();
  copyFileSync(join(fixturesDir, 'gpt2-tiny', 'model.safetensors'), join(dir, 'model.safetensors'));
  const raw = JSON.parse(readFileSync(join(fixturesDir, 'gpt2-tiny', 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...raw, resid_pdrop: 0, embd_pdrop: 0 }));
  return dir;
})();

function setup(dropout = 0) {
  manualSeed(7);
  const model = loadPretrained(dropout ? join(fixturesDir, 'gpt2-tiny') : noDropoutDir).model as CausalLM;
  const peft = new PeftModel(model, { seed: 1 });
  peft.addAdapter('default', { r: 4, lora_alpha: 8, lora_dropout: dropout, target_modules: ['c_attn', 'c_fc'] });
  return {
    peft,
    target: causalLMTarget(model, (dir) => {
      saveAdapters(peft, dir);
    }),
  };
}

/** Prompt/completion-shaped examples of varied lengths: loss on the last 3 tokens only. */
function examples(n: number, seed = 3): LMExample[] {
  const gen = new Generator(seed);
  return Array.from({ length: n }, () => {
    const len = 6 + Math.floor(gen.uniform() * 10);
    const ids = Array.from({ length: len }, () => Math.floor(gen.uniform() * 999));
    return { inputIds: ids, labels: ids.map((id, i) => (i >= len - 3 ? id : -100)) };
  });
}

const config = (over: Partial<TrainConfig>): TrainConfig => ({ ...DEFAULT_TRAIN_CONFIG, lr: 1e-2, padId: 0, ...over });

test('gradient accumulation equals one big batch (loss and updated weights)', async () => {
  const data = examples(8);
  const big = setup(),
    accum = setup();
  const rBig = await trainLoop(big.target, { train: data }, config({ batchSize: 8, gradAccumulation: 1, maxSteps: 1, groupByLength: false }));
  const rAcc = await trainLoop(accum.target, { train: data }, config({ batchSize: 2, gradAccumulation: 4, maxSteps: 1, groupByLength: false }));
  assert.ok(Math.abs(rBig.losses[0] - rAcc.losses[0]) < 1e-5, `${rBig.losses[0]} vs ${rAcc.losses[0]}`);
  const pa = big.target.namedParameters(),
    pb = accum.target.namedParameters();
  pa.forEach(([name, t], i) => {
    const a = t.contiguousData(),
      b = pb[i][1].contiguousData();
    for (let j = 0; j < a.length; j++) assert.ok(Math.abs(a[j] - b[j]) < 1e-5, `${name}[${j}]`);
  });
});

test('an interrupted and resumed run reproduces the uninterrupted losses exactly', async () => {
  const data = examples(24),
    validation = examples(4, 9);
  const full = setup(0.1);
  const dirA = tmp();
  const uninterrupted = await trainLoop(full.target, { train: data, validation }, config({ batchSize: 4, epochs: 2, checkpointEvery: 3, outputDir: dirA }));
  assert.equal(uninterrupted.steps, 12);
  const dirB = tmp();
  let steps = 0;
  const first = setup(0.1);
  const stopped = await trainLoop(first.target, { train: data, validation }, config({ batchSize: 4, epochs: 2, outputDir: dirB }), {
    onStep: () => {
      steps++;
    },
    shouldStop: () => steps >= 5,
  });
  assert.ok(stopped.interrupted && stopped.checkpoint?.endsWith('checkpoint-5'));
  const second = setup(0.1);
  const resumed = await trainLoop(second.target, { train: data, validation }, config({ batchSize: 4, epochs: 2, outputDir: dirB, resumeFrom: stopped.checkpoint! }));
  assert.deepEqual([...stopped.losses, ...resumed.losses], uninterrupted.losses);
  for (const f of ['adapter_config.json', 'adapter_model.safetensors', 'trainer_state.json', 'metrics.jsonl']) assert.ok(existsSync(join(dirA, f)), f);
  for (const f of ['trainable.safetensors', 'optimizer.safetensors', 'trainer_state.json', 'adapter_model.safetensors']) assert.ok(existsSync(join(dirA, 'checkpoint-6', f)), f);
  assert.ok(!readdirSync(dirA).some((f) => f.startsWith('.peft-ts-tmp')), 'no temporary folders left');
  const log = readFileSync(join(dirA, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(log.filter((e) => 'loss' in e).length, 12);
  assert.ok(log.some((e) => 'eval_loss' in e));
});

test('training lowers the loss, and early stopping stops when validation stops improving', async () => {
  const data = examples(16);
  const { target } = setup();
  const r = await trainLoop(target, { train: data, validation: data.slice(0, 4) }, config({ batchSize: 4, epochs: 10, lr: 5e-2, evalEvery: 5, earlyStoppingPatience: 1000 }));
  assert.ok(r.losses[r.losses.length - 1] < r.losses[0] - 0.3, `${r.losses[0]} -> ${r.losses[r.losses.length - 1]}`);
  assert.ok(r.bestEvalLoss !== null && r.bestEvalLoss < 6.9, `validation loss ${r.bestEvalLoss}`);
  const noisy = setup();
  const stopped = await trainLoop(noisy.target, { train: data, validation: examples(4, 11) }, config({ batchSize: 4, epochs: 50, lr: 0.5, evalEvery: 1, earlyStoppingPatience: 2 }));
  assert.ok(stopped.stoppedEarly && stopped.steps < 200, `stopped after ${stopped.steps} steps`);
});

test('a non-finite loss stops training with a TrainingError that says what to do', async () => {
  const { target } = setup();
  const [, first] = target.namedParameters()[0];
  first.contiguousData()[0] = NaN;
  await assert.rejects(
    trainLoop(target, { train: examples(4) }, config({ batchSize: 2 })),
    (e: unknown) => e instanceof TrainingError && /loss became NaN at step 1/.test(e.message) && /Lower the learning rate/.test(e.message),
  );
});

test("a method's hooks run through the target: the extra loss counts once per step, afterStep sees each step before the gradients are cleared", async () => {
  const { target, peft } = setup();
  const param = [...peft.adapterStateDict('default').values()][0];
  const seen: [number, boolean][] = [];
  target.methodHooks = {
    extraLoss: () => param.sum().mul(0).add(0.25),
    afterStep: (step) => {
      seen.push([step, param.grad !== null && param.grad !== undefined]);
    },
  };
  const plain = setup();
  const cfg = config({ batchSize: 2, gradAccumulation: 2, maxSteps: 3, lr: 1e-9 });
  const withHooks = await trainLoop(target, { train: examples(12) }, cfg);
  const without = await trainLoop(plain.target, { train: examples(12) }, cfg);
  assert.deepEqual(seen, [
    [0, true],
    [1, true],
    [2, true],
  ]);
  withHooks.losses.forEach((l, i) => assert.ok(Math.abs(l - without.losses[i] - 0.25) < 1e-4, `step ${i}: ${l} vs ${without.losses[i]} + 0.25`));
});

// Issue 12: a diverging run must stop, and say truthfully whether a checkpoint exists.
test('a diverging run stops on its gradient norm or parameters, not only on a NaN loss (lr 1e6 used to end "successfully")', async () => {
  const huge = setup();
  await assert.rejects(
    trainLoop(huge.target, { train: examples(8) }, config({ batchSize: 2, epochs: 20, lr: 1e6, maxGradNorm: null })),
    (e: unknown) =>
      e instanceof TrainingError && /(gradient norm became|loss became|became non-finite)/.test((e as Error).message) && /no checkpoint was written, so nothing was saved/.test((e as Error).message),
  );
  const sgd = setup();
  await assert.rejects(
    trainLoop(sgd.target, { train: examples(4) }, config({ batchSize: 2, optimizer: 'sgd', lr: 1e300, maxGradNorm: null })),
    (e: unknown) => e instanceof TrainingError && /parameter '.*' became non-finite after the update at step 1/.test((e as Error).message),
  );
  const blownGrad = setup();
  const [, first] = blownGrad.target.namedParameters()[0];
  first.contiguousData().fill(1e30); // finite weights whose gradients overflow float32 AdamW state
  await assert.rejects(
    trainLoop(blownGrad.target, { train: examples(4) }, config({ batchSize: 2 })),
    (e: unknown) => e instanceof TrainingError && /(gradient norm became|loss became)/.test((e as Error).message),
  );
});

test('an unknown optimizer is an error, not AdamW in silence', async () => {
  await assert.rejects(trainLoop(setup().target, { train: examples(4) }, config({ optimizer: 'bogus' as never })), /optimizer 'bogus' is not available/);
});

test('the divergence message names the checkpoint that exists, and only one that exists', async () => {
  const dir = tmp();
  const { target } = setup();
  const poison = () => {
    target.namedParameters()[0][1].contiguousData()[0] = NaN;
  };
  let step = 0;
  await assert.rejects(
    trainLoop(target, { train: examples(8) }, config({ batchSize: 2, checkpointEvery: 2, outputDir: dir }), {
      onStep: () => {
        if (++step === 2) poison();
      },
    }),
    (e: unknown) => e instanceof TrainingError && e.message.includes(`the last checkpoint (${join(dir, 'checkpoint-2')}) is intact`),
  );
  assert.ok(existsSync(join(dir, 'checkpoint-2', 'trainable.safetensors')));
  const again = setup();
  step = 0;
  await assert.rejects(
    trainLoop(again.target, { train: examples(8) }, config({ batchSize: 2, outputDir: tmp(), resumeFrom: join(dir, 'checkpoint-2') }), {
      onStep: () => {
        if (++step === 1) again.target.namedParameters()[0][1].contiguousData()[0] = NaN;
      },
    }),
    (e: unknown) => e instanceof TrainingError && /no checkpoint was written since the one resumed from \(.*checkpoint-2\), which is intact/.test(e.message),
  );
});

test('after a resume, metrics.jsonl holds each step once (steps redone after the checkpoint are not duplicated)', async () => {
  const dir = tmp(),
    data = examples(16);
  await trainLoop(setup().target, { train: data }, config({ batchSize: 2, maxSteps: 3, checkpointEvery: 2, outputDir: dir }));
  await trainLoop(setup().target, { train: data }, config({ batchSize: 2, maxSteps: 5, outputDir: dir, resumeFrom: join(dir, 'checkpoint-2') }));
  const steps = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((e) => 'loss' in e)
    .map((e) => e.step);
  assert.deepEqual(steps, [1, 2, 3, 4, 5]);
});

test('a corrupt trainer_state.json on resume is a one-line CheckpointError', async () => {
  const dir = tmp();
  await trainLoop(setup().target, { train: examples(4) }, config({ batchSize: 2, maxSteps: 1, checkpointEvery: 1, outputDir: dir }));
  const state = join(dir, 'checkpoint-1', 'trainer_state.json');
  for (const text of ['{"global_step": 1,', '[]', '{"global_step": -3}', JSON.stringify({ ...JSON.parse(readFileSync(state, 'utf8')), rng: null })]) {
    writeFileSync(state, text);
    await assert.rejects(
      trainLoop(setup().target, { train: examples(4) }, config({ batchSize: 2, outputDir: tmp(), resumeFrom: join(dir, 'checkpoint-1') })),
      (e: unknown) => e instanceof CheckpointError && /trainer_state\.json (is not valid JSON|is not a JSON object|has an invalid)/.test(e.message) && !e.message.includes('\n'),
      text,
    );
  }
});
