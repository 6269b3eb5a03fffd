import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setBackend } from '../backend/index.js';
import { availableBackends } from '../../test/helpers.js';
import { gradcheck } from './gradcheck.js';
import { opCases, prepareInputs } from './ops.cases.js';
import { Generator } from './random.js';

for (const backend of availableBackends()) {
  for (const c of opCases.filter((x) => !x.large)) {
    test(`gradcheck [${backend.name}] ${c.name}`, () => {
      setBackend(backend);
      const inputs = prepareInputs(c, new Generator(42));
      const { checked } = gradcheck(c.fn, inputs);
      assert.ok(checked > 0, 'the case has at least one differentiable element');
    });
  }
}
