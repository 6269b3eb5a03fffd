/**
 * Every adapter HF PEFT 0.21 wrote in fixtures/peft-zoo, for every layer method peft-ts
 * registers: PyTorch's logits reproduced, PEFT's saved keys and shapes, PEFT's trainable count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fixturesDir } from '../../test/helpers.js';
import { assertMatchesFixture, expectedOf, fixtureLogits } from '../../test/fixtures.js';
import { layerZooFixtures } from '../../test/zoo.js';
import { loadPretrained, type PretrainedModel } from '../models/index.js';
import { loadPeftModel } from './index.js';

/** Saved tensors PEFT keeps frozen (VeRA's shared random projections). */
const FROZEN_SAVED = /^base_model\.vera_[AB]$/;

for (const f of layerZooFixtures()) {
  test(`peft-zoo ${f.fixture}: HF PEFT's ${f.peft_type} adapter reproduces PyTorch's logits, keys, shapes and trainable count`, () => {
    const folder = `peft-zoo/${f.fixture}`;
    const base = loadPretrained(join(fixturesDir, f.base)).model;
    const baseTotal = base.parameters().reduce((n, t) => n + t.size, 0);
    const peft = loadPeftModel(base, join(fixturesDir, folder), { trainable: true });
    assertMatchesFixture(fixtureLogits(peft.model.forward.bind(peft.model) as PretrainedModel['forward'], expectedOf(folder)), expectedOf(folder), folder);

    const state = peft.adapterStateDict('default');
    assert.deepEqual(Object.fromEntries([...state].map(([k, t]) => [k, t.shape])), f.saved_keys);
    const expectedTrainable = Object.entries(f.saved_keys).filter(([k]) => !FROZEN_SAVED.test(k)).reduce((n, [, shape]) => n + shape.reduce((a, b) => a * b, 1), 0);
    const report = peft.trainableParameters();
    assert.equal(report.trainable, expectedTrainable, 'trainable parameters, as PEFT counts them');
    assert.ok(report.total >= baseTotal);
  });
}
