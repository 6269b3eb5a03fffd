/**
 * The contract every PEFT method keeps, written once: each case below is one method (or one
 * variant) on a tiny fixture model, and runs through every check. A new method gets all of this
 * by adding its case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturesDir } from '../../test/helpers.js';
import { ArgumentError } from '../errors.js';
import { Embedding, type Module } from '../nn/index.js';
import { loadPretrained, type PretrainedModel } from '../models/index.js';
import { crossEntropy, Generator, gradcheck, noGrad, Tensor } from '../tensor/index.js';
import { getPeftModel, loadPeftModel, type PeftModel, saveAdapters, type TunerLayer } from './index.js';

interface MethodCase {
  /** Shown in test names: the method and its variant. */
  name: string;
  base: 'llama-tiny' | 'gpt2-tiny' | 'bert-tiny';
  config: Record<string, unknown>;
  /** The second adapter's config in the several-adapters check (default: the same). */
  otherConfig?: Record<string, unknown>;
  /** PEFT's initialisation leaves the output unchanged (false for e.g. LoRA with init_lora_weights false). */
  identityAtInit: boolean;
  /** PEFT allows several active adapters on one module. */
  multipleActive: boolean;
  /** PEFT accepts a mixed batch (adapter_names per row). */
  mixedBatch: boolean;
  mergeable: boolean;
  /** Parameters whose autograd gradient is deliberately not the full derivative, as in PEFT (why, in the case). */
  detachedGradient?: RegExp;
}

export const METHOD_CASES: MethodCase[] = [
  {
    name: 'lora',
    base: 'llama-tiny',
    config: { peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj', 'down_proj'] },
    identityAtInit: true,
    multipleActive: true,
    mixedBatch: true,
    mergeable: true,
  },
  {
    name: 'lora on Conv1D',
    base: 'gpt2-tiny',
    config: { peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['c_attn', 'c_fc'] },
    identityAtInit: true,
    multipleActive: true,
    mixedBatch: true,
    mergeable: true,
  },
  // DoRA detaches the weight norm (PEFT does, per the paper's section 4.3): A and B get the partial gradient only.
  {
    name: 'lora + dora',
    base: 'llama-tiny',
    config: { peft_type: 'LORA', r: 4, lora_alpha: 8, use_dora: true },
    identityAtInit: true,
    multipleActive: true,
    mixedBatch: true,
    mergeable: true,
    detachedGradient: /lora_[AB]/,
  },
  { name: 'ln-tuning', base: 'llama-tiny', config: { peft_type: 'LN_TUNING' }, identityAtInit: true, multipleActive: false, mixedBatch: true, mergeable: true },
  { name: 'ln-tuning on LayerNorm', base: 'gpt2-tiny', config: { peft_type: 'LN_TUNING' }, identityAtInit: true, multipleActive: false, mixedBatch: true, mergeable: true },
  {
    name: 'trainable-tokens',
    base: 'llama-tiny',
    config: { peft_type: 'TRAINABLE_TOKENS', token_indices: [3, 15, 65, 200] },
    otherConfig: { peft_type: 'TRAINABLE_TOKENS', token_indices: [14, 92] },
    identityAtInit: true,
    multipleActive: true,
    mixedBatch: true,
    mergeable: true,
  },
  {
    name: 'trainable-tokens, tied LM head',
    base: 'gpt2-tiny',
    config: { peft_type: 'TRAINABLE_TOKENS', token_indices: [3, 15, 65, 200] },
    otherConfig: { peft_type: 'TRAINABLE_TOKENS', token_indices: [14, 92] },
    identityAtInit: true,
    multipleActive: true,
    mixedBatch: true,
    mergeable: true,
  },
  { name: 'lora, SEQ_CLS', base: 'bert-tiny', config: { peft_type: 'LORA', r: 4, task_type: 'SEQ_CLS' }, identityAtInit: true, multipleActive: true, mixedBatch: false, mergeable: true },
  { name: 'ia3', base: 'llama-tiny', config: { peft_type: 'IA3' }, identityAtInit: true, multipleActive: true, mixedBatch: true, mergeable: true },
  { name: 'ia3 on Conv1D', base: 'gpt2-tiny', config: { peft_type: 'IA3' }, identityAtInit: true, multipleActive: true, mixedBatch: true, mergeable: true },
  { name: 'ia3, SEQ_CLS', base: 'bert-tiny', config: { peft_type: 'IA3', task_type: 'SEQ_CLS' }, identityAtInit: true, multipleActive: true, mixedBatch: false, mergeable: true },
  {
    name: 'loha',
    base: 'llama-tiny',
    config: { peft_type: 'LOHA', r: 4, alpha: 8, target_modules: ['q_proj', 'v_proj', 'up_proj'] },
    identityAtInit: true,
    multipleActive: true,
    mixedBatch: true,
    mergeable: true,
  },
  {
    name: 'lokr, decompose_both',
    base: 'llama-tiny',
    config: { peft_type: 'LOKR', r: 2, alpha: 4, decompose_both: true, target_modules: ['q_proj', 'v_proj', 'up_proj'] },
    identityAtInit: true,
    multipleActive: true,
    mixedBatch: true,
    mergeable: true,
  },
  {
    name: 'vera',
    base: 'llama-tiny',
    config: { peft_type: 'VERA', r: 8, target_modules: ['q_proj', 'v_proj', 'down_proj'] },
    identityAtInit: true,
    multipleActive: true,
    mixedBatch: true,
    mergeable: true,
  },
  { name: 'vera on Conv1D', base: 'gpt2-tiny', config: { peft_type: 'VERA', r: 8, target_modules: ['c_attn', 'c_fc'] }, identityAtInit: true, multipleActive: true, mixedBatch: true, mergeable: true },
  // FourierFT's PEFT default draws the spectrum from N(0, 1): not the identity at init.
  { name: 'fourierft', base: 'llama-tiny', config: { peft_type: 'FOURIERFT', n_frequency: 64 }, identityAtInit: false, multipleActive: true, mixedBatch: true, mergeable: true },
  {
    name: 'fourierft on Conv1D, zero init',
    base: 'gpt2-tiny',
    config: { peft_type: 'FOURIERFT', n_frequency: 64, init_weights: true },
    identityAtInit: true,
    multipleActive: true,
    mixedBatch: true,
    mergeable: true,
  },
  {
    name: 'oft',
    base: 'llama-tiny',
    config: { peft_type: 'OFT', oft_block_size: 16, target_modules: ['q_proj', 'v_proj', 'down_proj'] },
    identityAtInit: true,
    multipleActive: true,
    mixedBatch: true,
    mergeable: true,
  },
  {
    name: 'oft exact Cayley, shared block, on Conv1D',
    base: 'gpt2-tiny',
    config: { peft_type: 'OFT', oft_block_size: 8, use_cayley_neumann: false, block_share: true, target_modules: ['c_attn', 'c_fc'] },
    identityAtInit: true,
    multipleActive: true,
    mixedBatch: true,
    mergeable: true,
  },
  {
    name: 'hra',
    base: 'llama-tiny',
    config: { peft_type: 'HRA', r: 4, target_modules: ['q_proj', 'v_proj', 'down_proj'] },
    identityAtInit: true,
    multipleActive: true,
    mixedBatch: true,
    mergeable: true,
  },
  // PEFT's paired init is not the identity under Gram-Schmidt: the second of a pair orthogonalises to rounding noise.
  { name: 'hra with Gram-Schmidt', base: 'llama-tiny', config: { peft_type: 'HRA', r: 4, apply_GS: true }, identityAtInit: false, multipleActive: true, mixedBatch: true, mergeable: true },
  {
    name: 'boft',
    base: 'llama-tiny',
    config: { peft_type: 'BOFT', boft_block_size: 8, target_modules: ['q_proj', 'v_proj', 'down_proj'] },
    identityAtInit: true,
    multipleActive: true,
    mixedBatch: true,
    mergeable: true,
  },
  {
    name: 'adalora',
    base: 'llama-tiny',
    config: { peft_type: 'ADALORA', init_r: 4, target_r: 2, total_step: 10, target_modules: ['q_proj', 'v_proj', 'down_proj'] },
    identityAtInit: true,
    multipleActive: true,
    mixedBatch: true,
    mergeable: true,
  },
  {
    name: 'adalora on Conv1D',
    base: 'gpt2-tiny',
    config: { peft_type: 'ADALORA', init_r: 4, total_step: 10, target_modules: ['c_attn'] },
    identityAtInit: true,
    multipleActive: true,
    mixedBatch: true,
    mergeable: true,
  },
  // PEFT starts VB-LoRA from random logits and a random bank: a fresh adapter already changes the output.
  // topk = num_vectors keeps the mix smooth for finite differences (a top-k choice jumps when an entry crosses the cut).
  {
    name: 'vblora',
    base: 'llama-tiny',
    config: { peft_type: 'VBLORA', r: 2, num_vectors: 4, topk: 4, vector_length: 16, target_modules: ['q_proj', 'v_proj', 'down_proj'] },
    identityAtInit: false,
    multipleActive: true,
    mixedBatch: true,
    mergeable: true,
  },
  {
    name: 'vblora on Conv1D',
    base: 'gpt2-tiny',
    config: { peft_type: 'VBLORA', r: 2, num_vectors: 4, topk: 4, vector_length: 16, target_modules: ['c_attn'] },
    identityAtInit: false,
    multipleActive: true,
    mixedBatch: true,
    mergeable: true,
  },
];

const ids = Tensor.from([3, 14, 15, 92, 65, 35, 89, 79, 32, 38, 46, 26], [2, 6], 'int32');
const baseModel = (c: MethodCase) => loadPretrained(join(fixturesDir, c.base)).model;
const run = (m: PretrainedModel | PeftModel, input = ids) => noGrad(() => (m.forward as (i: unknown) => Tensor)({ inputIds: input })).contiguousData();
const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const tmp = () => mkdtempSync(join(tmpdir(), 'peft-ts-contract-'));

/** Every trainable tensor of the adapter, by saved name. */
function trainable(peft: PeftModel, name = 'default'): Map<string, Tensor> {
  return new Map([...peft.adapterStateDict(name)].filter(([, t]) => t.requiresGrad));
}

/** Moves every trainable adapter tensor by seeded noise, so the adapter visibly changes the output. */
function perturb(peft: PeftModel, name = 'default', seed = 7): void {
  const gen = new Generator(seed);
  for (const t of trainable(peft, name).values()) {
    const data = t.data as Float32Array;
    for (let i = 0; i < t.size; i++) data[t.offset + i] += 0.2 * (gen.uniform() * 2 - 1);
  }
}

/** A batch the base module of `layer` accepts: token ids for an embedding, activations otherwise. */
function layerInput(layer: TunerLayer, gen: Generator): Tensor {
  const base = layer.baseLayer() as Module & { weight: Tensor; inFeatures?: number };
  if (base instanceof Embedding) return Tensor.from([1, 5, 9, 2, 7, 3], [2, 3], 'int32');
  const width = base.inFeatures ?? base.weight.shape[base.weight.ndim - 1];
  return Tensor.randn([2, 3, width], gen);
}

for (const c of METHOD_CASES) {
  test(`contract [${c.name}]: a fresh adapter ${c.identityAtInit ? 'leaves the output unchanged' : 'is built'}; disabled equals the base exactly`, () => {
    const model = baseModel(c);
    const before = run(model);
    const peft = getPeftModel(model, c.config);
    if (c.identityAtInit) assert.ok(maxAbsDiff(run(peft), before) < 1e-5, `fresh adapter moved the output by ${maxAbsDiff(run(peft), before)}`);
    perturb(peft);
    assert.ok(maxAbsDiff(run(peft), before) > 1e-4, 'a trained adapter changes the output');
    assert.deepEqual(
      peft.withAdaptersDisabled(() => run(peft)),
      before,
    );
  });

  test(`contract [${c.name}]: gradients reach the adapter's parameters only, and match finite differences`, () => {
    const peft = getPeftModel(baseModel(c), c.config);
    perturb(peft);
    const logits = peft.forward({ inputIds: ids });
    const target = c.base === 'bert-tiny' ? Tensor.from([1, 0], [2], 'int32') : ids;
    const loss = c.base === 'bert-tiny' ? crossEntropy(logits, target) : crossEntropy(logits.reshape([-1, logits.shape[logits.ndim - 1]]), target.reshape([-1]));
    loss.backward();
    const adapterTensors = new Set(trainable(peft).values());
    for (const [name, p] of peft.model.namedParameters()) {
      if (!adapterTensors.has(p)) assert.ok(p.grad === null || p.grad === undefined, `${name} is frozen but got a gradient`);
    }
    for (const [name, t] of trainable(peft))
      assert.ok(
        t.grad?.contiguousData().some((v) => v !== 0),
        `${name} got no gradient`,
      );

    // Finite differences on one adapted module, in isolation (float32 limits the tolerance).
    const [, layer] = peft.tunerLayers()[0];
    const params = [...layer.adapterState('default')].filter(([k, t]) => t.requiresGrad && !c.detachedGradient?.test(k)).map(([, t]) => t);
    const x = layerInput(layer, new Generator(3));
    const result = gradcheck(() => layer.forward(x), params, { eps: 1e-2, atol: 3e-3, rtol: 2e-2 });
    assert.ok(result.checked > 0);
  });

  test(`contract [${c.name}]: save then load is bit-exact`, () => {
    const peft = getPeftModel(baseModel(c), c.config);
    perturb(peft);
    const dir = tmp();
    saveAdapters(peft, dir);
    const loaded = loadPeftModel(baseModel(c), dir);
    const a = peft.adapterStateDict('default'),
      b = loaded.adapterStateDict('default');
    assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
    for (const [k, t] of a) assert.deepEqual(b.get(k)!.contiguousData(), t.contiguousData(), k);
    assert.deepEqual(run(loaded), run(peft));
  });

  test(`contract [${c.name}]: merge ${c.mergeable ? 'equals unmerged; unmerge restores the base' : 'is refused clearly'}`, () => {
    const model = baseModel(c);
    const weights = new Map([...model.stateDict()].map(([k, t]) => [k, Float32Array.from(t.contiguousData())]));
    const peft = getPeftModel(model, c.config);
    perturb(peft);
    const adapted = run(peft);
    if (!c.mergeable) {
      assert.throws(() => peft.merge(), ArgumentError);
      return;
    }
    peft.merge();
    assert.ok(maxAbsDiff(run(peft), adapted) < 1e-5, `merged vs unmerged: ${maxAbsDiff(run(peft), adapted)}`);
    peft.unmerge();
    for (const [path, layer] of peft.tunerLayers()) {
      for (const [k, t] of layer.baseLayer().namedParameters()) {
        const key = `${path}.${k}`;
        assert.ok(maxAbsDiff(t.contiguousData(), weights.get(key)!) < 1e-6, `${key} restored`);
      }
    }
    assert.ok(maxAbsDiff(run(peft), adapted) < 1e-5);
  });

  test(`contract [${c.name}]: several adapters ${c.multipleActive ? 'apply together' : 'are refused together'}; mixed batches ${c.mixedBatch ? 'match separate runs' : 'are refused'}`, () => {
    const model = baseModel(c);
    const baseOut = run(model);
    const peft = getPeftModel(model, c.config);
    perturb(peft, 'default', 1);
    peft.addAdapter('other', c.otherConfig ?? c.config);
    perturb(peft, 'other', 2);
    peft.setAdapter('default');
    const outA = run(peft);
    peft.setAdapter('other');
    const outB = run(peft);
    peft.setAdapter(['default', 'other']);
    if (c.multipleActive) assert.ok(maxAbsDiff(run(peft), outA) > 1e-4 && maxAbsDiff(run(peft), outB) > 1e-4, 'both adapters act');
    else assert.throws(() => run(peft), ArgumentError);

    const rows = ['other', '__base__'];
    if (!c.mixedBatch) {
      assert.throws(() => noGrad(() => peft.forward({ inputIds: ids }, { adapterNames: rows })), ArgumentError);
      return;
    }
    const mixed = noGrad(() => peft.forward({ inputIds: ids }, { adapterNames: rows })).contiguousData();
    const half = mixed.length / 2;
    assert.ok(maxAbsDiff(mixed.subarray(0, half), outB.subarray(0, half)) < 1e-5, 'row 0 uses adapter "other"');
    assert.ok(maxAbsDiff(mixed.subarray(half), baseOut.subarray(half)) < 1e-5, 'row 1 uses the base');
  });
}
