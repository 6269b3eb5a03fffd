/**
 * Every adapter HF PEFT 0.21 wrote in fixtures/peft-zoo, for every layer method peft-ts
 * registers: PyTorch's logits reproduced (on every backend), PEFT's saved keys and shapes, PEFT's
 * trainable count, and the file written back bit-exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend, setBackend } from '../backend/index.js';
import { loadSafetensors } from '../io/index.js';
import { availableBackends, fixturesDir } from '../../test/helpers.js';
import { assertMatchesFixture, expectedOf, fixtureLogits } from '../../test/fixtures.js';
import { layerZooFixtures } from '../../test/zoo.js';
import { loadPretrained, type PretrainedModel } from '../models/index.js';
import { loadPeftModel, type PeftModel, saveAdapters } from './index.js';

const forwardOf = (peft: PeftModel) => peft.model.forward.bind(peft.model) as PretrainedModel['forward'];

/** Saved tensors PEFT keeps frozen (VeRA's shared random projections). */
const FROZEN_SAVED = /^base_model\.vera_[AB]$/;

for (const f of layerZooFixtures()) {
  test(`peft-zoo ${f.fixture}: HF PEFT's ${f.peft_type} adapter reproduces PyTorch's logits, keys, shapes and trainable count`, () => {
    const folder = `peft-zoo/${f.fixture}`;
    const base = loadPretrained(join(fixturesDir, f.base)).model;
    const baseTotal = base.parameters().reduce((n, t) => n + t.size, 0);
    const peft = loadPeftModel(base, join(fixturesDir, folder), { trainable: true });
    assertMatchesFixture(fixtureLogits(forwardOf(peft), expectedOf(folder)), expectedOf(folder), folder);

    const state = peft.adapterStateDict('default');
    assert.deepEqual(Object.fromEntries([...state].map(([k, t]) => [k, t.shape])), f.saved_keys);
    const expectedTrainable = Object.entries(f.saved_keys)
      .filter(([k]) => !FROZEN_SAVED.test(k))
      .reduce((n, [, shape]) => n + shape.reduce((a, b) => a * b, 1), 0);
    const report = peft.trainableParameters();
    assert.equal(report.trainable, expectedTrainable, 'trainable parameters, as PEFT counts them');
    assert.ok(report.total >= baseTotal);
  });
}

for (const f of layerZooFixtures()) {
  test(`peft-zoo ${f.fixture}: saving writes PEFT's keys, shapes and values back bit-exactly; the logits match on every backend`, () => {
    const folder = `peft-zoo/${f.fixture}`;
    const peft = loadPeftModel(loadPretrained(join(fixturesDir, f.base)).model, join(fixturesDir, folder));
    const out = mkdtempSync(join(tmpdir(), 'peft-ts-zoo-'));
    saveAdapters(peft, out);
    const saved = loadSafetensors(join(out, 'adapter_model.safetensors'));
    const original = loadSafetensors(join(fixturesDir, folder, 'adapter_model.safetensors'));
    assert.deepEqual(Object.fromEntries([...saved].map(([k, t]) => [k, t.shape])), f.saved_keys);
    for (const [k, t] of saved) assert.deepEqual(t.contiguousData(), original.get(k)!.float().contiguousData(), k);
    const previous = getBackend();
    try {
      for (const backend of availableBackends()) {
        setBackend(backend);
        const reloaded = loadPeftModel(loadPretrained(join(fixturesDir, f.base)).model, out);
        assertMatchesFixture(fixtureLogits(forwardOf(reloaded), expectedOf(folder)), expectedOf(folder), `${folder} [${backend.name}]`);
      }
    } finally {
      setBackend(previous);
    }
  });
}
