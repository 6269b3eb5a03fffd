import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertClose } from '../../../../test/helpers.js';
import { loadBase, zooFixture } from '../../../../test/zoo.js';
import { ConfigError } from '../../../errors.js';
import type { CausalLM } from '../../../models/index.js';
import { Generator, noGrad, Tensor } from '../../../tensor/index.js';
import { causalLMTarget, DEFAULT_TRAIN_CONFIG, trainLoop, type LMExample } from '../../../train/index.js';
import { getPeftModel, loadPeftModel, saveAdapters } from '../../index.js';
import { budgetAt, RankAllocator } from './allocator.js';
import type { AdaloraConfig } from './config.js';
import type { AdaloraLayer } from './layer.js';

const fixture = zooFixture('llama-tiny-adalora');
const ids = Tensor.from([3, 14, 15, 92, 65, 35, 89, 79, 32, 38, 46, 26], [2, 6], 'int32');

test("the budget follows PEFT's cubic schedule: init during warm-up, target in the final phase, masks every deltaT steps", () => {
  const s = { tinit: 3, tfinal: 4, deltaT: 2, total_step: 20 };
  for (let step = 0; step <= 22; step++) {
    const { budget, mask } = budgetAt(step, 48, 16, s);
    if (step <= 3) assert.deepEqual({ budget, mask }, { budget: 48, mask: false }, `step ${step}`);
    else if (step > 16) assert.deepEqual({ budget, mask }, { budget: 16, mask: true }, `step ${step}`);
    else {
      const expected = Math.floor((48 - 16) * (1 - (step - 3) / 13) ** 3 + 16);
      assert.deepEqual({ budget, mask }, { budget: expected, mask: step % 2 === 0 }, `step ${step}`);
    }
  }
  assert.equal(budgetAt(16, 48, 16, s).budget, 16, 'the target is reached at total_step - tfinal');
});

function adaloraModel(over: Partial<AdaloraConfig> = {}) {
  return getPeftModel(
    loadBase(fixture.base),
    { peft_type: 'ADALORA', init_r: 4, target_r: 2, total_step: 8, tinit: 1, tfinal: 2, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'], ...over },
    { seed: 3 },
  );
}

test('the allocator keeps the triplets with the largest smoothed sensitivity x uncertainty and zeroes the other E values', () => {
  const peft = adaloraModel({ init_lora_weights: false });
  const layers = peft.tunerLayers() as [string, AdaloraLayer][];
  const config = peft.config() as AdaloraConfig;
  const allocator = new RankAllocator(layers, 'default', config);
  assert.equal(allocator.initBudget, 16);
  assert.equal(allocator.targetBudget, 8);
  // Only E gets a gradient, so a triplet's score is ((1 - b1) (1 - b2) b1) |e g|^2 after one update: known ranking.
  const gen = new Generator(4);
  const importance: [string, number, number][] = [];
  for (const [path, layer] of layers) {
    for (const name of ['lora_A', 'lora_B'] as const) layer[name].items.get('default')!.grad = Tensor.zeros(layer[name].items.get('default')!.shape);
    const E = layer.lora_E.items.get('default')!;
    E.grad = Tensor.randn(E.shape, gen);
    const e = E.contiguousData(),
      g = E.grad.contiguousData();
    for (let k = 0; k < 4; k++) importance.push([path, k, Math.abs(e[k] * g[k])]);
  }
  const step = 2; // in the budgeting phase: budget = trunc((16 - 8) * (1 - 1/5)^3 + 8) = 12
  allocator.step(step);
  const budget = budgetAt(step, 16, 8, { tinit: 1, tfinal: 2, deltaT: 1, total_step: 8 }).budget;
  assert.equal(budget, 12);
  const kept = new Set(
    importance
      .sort((a, b) => b[2] - a[2])
      .slice(0, budget)
      .map(([p, k]) => `${p}#${k}`),
  );
  for (const [path, layer] of layers) {
    const pattern = config.rank_pattern![`${path}.lora_E`];
    assert.deepEqual(
      pattern,
      [0, 1, 2, 3].map((k) => kept.has(`${path}#${k}`)),
      path,
    );
    const E = layer.lora_E.items.get('default')!.contiguousData();
    pattern.forEach((keep, k) => {
      if (!keep) assert.equal(E[k], 0);
    });
  }
});

test('the orthogonality regulariser is orth_reg_weight x the mean of |A A^T - I|_F and |B^T B - I|_F', () => {
  const peft = adaloraModel({ orth_reg_weight: 0.3 });
  const hooks = peft.trainingHooks();
  let sum = 0,
    n = 0;
  for (const [, layer] of peft.tunerLayers() as [string, AdaloraLayer][]) {
    const A = layer.lora_A.items.get('default')!,
      B = layer.lora_B.items.get('default')!;
    for (const cov of [noGrad(() => A.matmul(A.T)), noGrad(() => B.T.matmul(B))]) {
      const d = cov.contiguousData(),
        r = cov.shape[0];
      sum += Math.sqrt(d.reduce((s, v, i) => s + (v - (Math.floor(i / r) === i % r ? 1 : 0)) ** 2, 0));
      n++;
    }
  }
  assertClose([noGrad(() => hooks.extraLoss!()).item()], [(0.3 * sum) / n], 1e-5, 1e-5, 'regulariser');
});

function examples(n: number): LMExample[] {
  const gen = new Generator(5);
  return Array.from({ length: n }, () => {
    const inputIds = Array.from({ length: 8 }, () => Math.floor(gen.uniform() * 500));
    return { inputIds, labels: inputIds };
  });
}

test('training through the trainer prunes to target_r per module on average, saves rank_pattern as PEFT (booleans per module) and loads back', async () => {
  const peft = adaloraModel();
  const model = peft.model as CausalLM;
  const dir = mkdtempSync(join(tmpdir(), 'peft-ts-adalora-'));
  const result = await trainLoop(
    causalLMTarget(
      model,
      (d) => {
        saveAdapters(peft, d);
      },
      peft.trainingHooks(),
    ),
    { train: examples(20) },
    { ...DEFAULT_TRAIN_CONFIG, lr: 1e-2, batchSize: 2, maxSteps: 9, padId: 0 },
  );
  assert.equal(result.steps, 9);
  const config = peft.config() as AdaloraConfig;
  const pattern = config.rank_pattern!;
  const layers = peft.tunerLayers() as [string, AdaloraLayer][];
  assert.deepEqual(Object.keys(pattern).sort(), layers.map(([p]) => `${p}.lora_E`).sort());
  const keptTotal = Object.values(pattern).reduce((n, m) => n + m.filter(Boolean).length, 0);
  assert.equal(keptTotal, 2 * layers.length, 'the final budget is target_r per module');
  for (const [path, layer] of layers) {
    const E = layer.lora_E.items.get('default')!.contiguousData();
    pattern[`${path}.lora_E`].forEach((keep, k) => {
      if (!keep) assert.equal(E[k], 0, `${path} E[${k}] stays masked in the final phase`);
    });
  }
  model.train(false);
  const trained = noGrad(() => peft.forward({ inputIds: ids })).contiguousData();
  saveAdapters(peft, dir);
  const saved = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
  assert.deepEqual(saved.rank_pattern, pattern);
  const loaded = loadPeftModel(loadBase(fixture.base), dir);
  for (const [path, layer] of loaded.tunerLayers() as [string, AdaloraLayer][]) {
    const kept = pattern[`${path}.lora_E`].filter(Boolean).length;
    assert.deepEqual(layer.lora_A.items.get('default')!.shape, [kept, 64], `${path} keeps ${kept} triplets`);
    assert.equal(layer.ranknum.get('default'), 4, 'ranknum stays init_r');
  }
  assertClose(noGrad(() => loaded.forward({ inputIds: ids })).contiguousData(), trained, 1e-5, 0, 'reloaded output');
});

test('AdaLoRA config errors name the field: total_step missing, no budgeting phase, DoRA', () => {
  const base = () => loadBase(fixture.base);
  assert.throws(
    () => getPeftModel(base(), { peft_type: 'ADALORA' }),
    (e: Error) => e instanceof ConfigError && /total_step must be set/.test(e.message),
  );
  assert.throws(
    () => getPeftModel(base(), { peft_type: 'ADALORA', total_step: 10, tinit: 6, tfinal: 4 }),
    (e: Error) => e instanceof ConfigError && /tinit \(6\)/.test(e.message),
  );
  assert.throws(
    () => getPeftModel(base(), { peft_type: 'ADALORA', total_step: 10, use_dora: true }),
    (e: Error) => e instanceof ConfigError && /use_dora/.test(e.message),
  );
  assert.throws(
    () => getPeftModel(base(), { peft_type: 'ADALORA', total_step: 10, init_r: 4, rank_pattern: { 'model.layers.0.self_attn.q_proj.lora_E': [true, false] } }),
    (e: Error) => e instanceof ConfigError && /rank_pattern/.test(e.message),
  );
});

test('a checkpointed and resumed AdaLoRA run reproduces the uninterrupted one: losses, scores and allocation', async () => {
  const run = async (over: { outputDir?: string; resumeFrom?: string }, stopAfter = Infinity) => {
    // total_step 20: all 9 steps are in the budgeting phase, so the smoothed scores are live at the end.
    const peft = adaloraModel({ total_step: 20 });
    const model = peft.model as CausalLM;
    const hooks = peft.trainingHooks();
    let steps = 0;
    const result = await trainLoop(
      causalLMTarget(
        model,
        (d) => {
          saveAdapters(peft, d);
        },
        hooks,
      ),
      { train: examples(20) },
      { ...DEFAULT_TRAIN_CONFIG, lr: 1e-2, batchSize: 2, padId: 0, maxSteps: 9, ...over },
      {
        onStep: () => {
          steps++;
        },
        shouldStop: () => steps >= stopAfter,
      },
    );
    return { result, pattern: (peft.config() as AdaloraConfig).rank_pattern, scores: hooks.saveState!().tensors };
  };
  const full = await run({});
  const dir = mkdtempSync(join(tmpdir(), 'peft-ts-adalora-resume-'));
  // Stopped after step 5, in the budgeting phase.
  const first = await run({ outputDir: dir }, 5);
  assert.ok(first.result.interrupted && first.result.checkpoint?.endsWith('checkpoint-5'));
  const resumed = await run({ outputDir: dir, resumeFrom: first.result.checkpoint! });
  assert.deepEqual([...first.result.losses, ...resumed.result.losses], full.result.losses);
  assert.deepEqual(resumed.pattern, full.pattern);
  assert.ok(full.scores.size > 0);
  assert.deepEqual([...resumed.scores.keys()].sort(), [...full.scores.keys()].sort());
  for (const [k, t] of full.scores) assert.deepEqual(resumed.scores.get(k)!.contiguousData(), t.contiguousData(), k);
});
