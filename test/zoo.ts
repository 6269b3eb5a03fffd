import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend, setBackend } from '../src/backend/index.js';
import { readHeader } from '../src/io/index.js';
import { loadPretrained, type PretrainedModel } from '../src/models/index.js';
import { loadPeftModel, saveAdapters, type PeftModel } from '../src/peft/index.js';
import { assertMatchesFixture, expectedOf, fixtureLogits } from './fixtures.js';
import { availableBackends, fixturesDir } from './helpers.js';

/** A peft-zoo fixture: an HF PEFT adapter saved by PEFT 0.21, with the logits PyTorch gives. */
export interface ZooFixture {
  folder: string;
  dir: string;
  base: string;
  savedKeys: Record<string, number[]>;
}

export function zooFixture(name: string): ZooFixture {
  const folder = `peft-zoo/${name}`;
  const dir = join(fixturesDir, folder);
  const meta = JSON.parse(readFileSync(join(dir, 'fixture.json'), 'utf8')) as { base: string; saved_keys: Record<string, number[]> };
  return { folder, dir, base: meta.base, savedKeys: meta.saved_keys };
}

export const zooBase = (fixture: ZooFixture): PretrainedModel => loadPretrained(join(fixturesDir, fixture.base)).model;

/** Loads the fixture through loadPeftModel and compares the logits with PyTorch's, on every backend. */
export function assertZooLogits(fixture: ZooFixture, load: (f: ZooFixture) => PeftModel = (f) => loadPeftModel(zooBase(f), f.dir)): void {
  const previous = getBackend();
  try {
    for (const backend of availableBackends()) {
      setBackend(backend);
      const peft = load(fixture);
      const expected = expectedOf(fixture.folder);
      assertMatchesFixture(fixtureLogits(peft.model.forward.bind(peft.model) as PretrainedModel['forward'], expected), expected, `${fixture.folder} [${backend.name}]`);
    }
  } finally {
    setBackend(previous);
  }
}

/**
 * The adapter PEFT saved, loaded trainable: its trainable parameter count is the sum of the saved
 * shapes, its state has exactly PEFT's keys and shapes, and saving it writes those keys again with
 * bit-identical values.
 */
export function assertZooLayout(fixture: ZooFixture): void {
  const peft = loadPeftModel(zooBase(fixture), fixture.dir, { trainable: true });
  const expectedCount = Object.values(fixture.savedKeys).reduce((n, shape) => n + shape.reduce((a, b) => a * b, 1), 0);
  assert.equal(peft.trainableParameters().trainable, expectedCount, 'trainable parameters = the saved tensors');
  const state = peft.adapterStateDict('default');
  assert.deepEqual(Object.fromEntries([...state].map(([k, t]) => [k, t.shape])), fixture.savedKeys);
  const dir = mkdtempSync(join(tmpdir(), 'peft-ts-zoo-'));
  saveAdapters(peft, dir);
  const header = readHeader(join(dir, 'adapter_model.safetensors'));
  assert.deepEqual([...header.tensors.keys()].sort(), Object.keys(fixture.savedKeys).sort());
  const reloaded = loadPeftModel(zooBase(fixture), dir).adapterStateDict('default');
  for (const [k, t] of state) assert.deepEqual(reloaded.get(k)!.contiguousData(), t.contiguousData(), k);
}
