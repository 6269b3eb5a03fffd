import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as api from '../src/index.js';

test('the package entry exposes each layer of the pipeline', () => {
  for (const name of [
    'Tensor',
    'noGrad',
    'createBackend',
    'Module',
    'Linear',
    'loadSafetensors',
    'HFTokenizer',
    'loadPretrained',
    'generate',
    'getPeftModel',
    'PeftModel',
    'saveAdapters',
    'loadPeftModel',
    'addWeightedAdapter',
    'train',
    'AdamW',
    'evaluate',
    'pairedDelta',
    'spamTask',
    'PeftTsError',
  ]) {
    assert.ok(name in api, `${name} is exported`);
  }
});
