import { test } from 'node:test';
import { join } from 'node:path';
import { fixturesDir } from '../../test/helpers.js';
import { assertMatchesFixture, expectedOf, fixtureLogits } from '../../test/fixtures.js';
import { loadPretrained, type PretrainedModel } from '../models/index.js';
import { loadPeftModel } from './index.js';

const base = (name: string) => loadPretrained(join(fixturesDir, name)).model;

/** HF PEFT 0.21's prompt-based adapters (../shared/fixtures/peft-zoo), each with its base. */
export const PROMPT_FIXTURES: [string, string][] = [
  ['llama-tiny', 'peft-zoo/llama-tiny-prompt-tuning'], ['llama-tiny', 'peft-zoo/llama-tiny-p-tuning'],
  ['llama-tiny', 'peft-zoo/llama-tiny-prefix-tuning'], ['bert-tiny', 'peft-zoo/bert-tiny-prompt-tuning'],
];

for (const [baseName, adapter] of PROMPT_FIXTURES) {
  test(`${adapter}: HF PEFT's adapter on ${baseName} reproduces PyTorch's logits at the real positions`, () => {
    const peft = loadPeftModel(base(baseName), join(fixturesDir, adapter));
    assertMatchesFixture(fixtureLogits(peft.model.forward.bind(peft.model) as PretrainedModel['forward'], expectedOf(adapter)), expectedOf(adapter), adapter);
  });
}
