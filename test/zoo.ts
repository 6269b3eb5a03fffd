import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend, setBackend } from '../src/backend/index.js';
import { loadSafetensors } from '../src/io/index.js';
import { loadPretrained, type PretrainedModel } from '../src/models/index.js';
import { getPeftModel, loadPeftModel, readAdapterConfig, saveAdapters, type PeftModel } from '../src/peft/index.js';
import { gradcheck, noGrad, type Tensor } from '../src/tensor/index.js';
import { assertMatchesFixture, expectedOf, fixtureLogits } from './fixtures.js';
import { availableBackends, fixturesDir } from './helpers.js';

/** What fixture.json of a peft-zoo folder says: the base model and every saved key with its shape. */
export interface ZooFixture { folder: string; dir: string; base: string; savedKeys: Record<string, number[]> }

export function zooFixture(name: string): ZooFixture {
  const dir = join(fixturesDir, 'peft-zoo', name);
  const meta = JSON.parse(readFileSync(join(dir, 'fixture.json'), 'utf8')) as { base: string; saved_keys: Record<string, number[]> };
  return { folder: `peft-zoo/${name}`, dir, base: meta.base, savedKeys: meta.saved_keys };
}

export const loadBase = (name: string): PretrainedModel => loadPretrained(join(fixturesDir, name)).model;

const forwardOf = (peft: PeftModel) => peft.model.forward.bind(peft.model) as PretrainedModel['forward'];

/** The zoo adapter loaded by loadPeftModel reproduces PEFT's logits on every backend this machine has. */
export function assertZooReproduces(fx: ZooFixture): void {
  const previous = getBackend();
  try {
    for (const backend of availableBackends()) {
      setBackend(backend);
      const peft = loadPeftModel(loadBase(fx.base), fx.dir);
      assertMatchesFixture(fixtureLogits(forwardOf(peft), expectedOf(fx.folder)), expectedOf(fx.folder), `${fx.folder} [${backend.name}]`);
    }
  } finally {
    setBackend(previous);
  }
}

/**
 * A fresh adapter made from the fixture's config trains exactly the parameters PEFT saves:
 * the sum of the saved shapes, less the keys `frozen` matches (VeRA's shared projections).
 */
export function assertTrainableCount(fx: ZooFixture, frozen: RegExp | null = null): void {
  const peft = getPeftModel(loadBase(fx.base), { ...readAdapterConfig(fx.dir), inference_mode: false });
  const expected = Object.entries(fx.savedKeys).filter(([k]) => !frozen?.test(k)).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
  assert.equal(peft.trainableParameters().trainable, expected);
}

/** Loading the fixture, saving it and loading that again: the file has the fixture's keys and shapes, and the values and logits are bit-exact. */
export function assertSaveLoadExact(fx: ZooFixture): void {
  const peft = loadPeftModel(loadBase(fx.base), fx.dir);
  const out = mkdtempSync(join(tmpdir(), 'peft-ts-zoo-'));
  saveAdapters(peft, out);
  const saved = loadSafetensors(join(out, 'adapter_model.safetensors'));
  assert.deepEqual(Object.fromEntries([...saved].map(([k, t]) => [k, t.shape])), fx.savedKeys);
  const original = loadSafetensors(join(fx.dir, 'adapter_model.safetensors'));
  for (const [k, t] of saved) assert.deepEqual(t.contiguousData(), original.get(k)!.contiguousData(), k);
  const reloaded = loadPeftModel(loadBase(fx.base), out);
  const expected = expectedOf(fx.folder);
  assert.deepEqual(fixtureLogits(forwardOf(reloaded), expected), fixtureLogits(forwardOf(peft), expected));
}

/** Finite differences agree with autograd for every trainable adapter parameter, through the whole model. */
export function assertAdapterGradients(peft: PeftModel, inputIds: Tensor, options: { atol?: number; rtol?: number } = {}): void {
  const params = peft.model.trainableParameters().map(([, t]) => t);
  assert.ok(params.length > 0, 'the adapter has trainable parameters');
  const logits = () => (peft.model.forward as (i: { inputIds: Tensor }) => Tensor)({ inputIds });
  noGrad(() => logits()); // warm up lazy state outside the gradient tape
  gradcheck(() => logits(), params, { eps: 1e-2, atol: options.atol ?? 5e-3, rtol: options.rtol ?? 2e-2 });
}
