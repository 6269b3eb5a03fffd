import { join } from 'node:path';
import { loadSafetensors } from '../src/io/index.js';
import type { PretrainedModel } from '../src/models/index.js';
import { noGrad, type Tensor } from '../src/tensor/index.js';
import { assertClose, fixturesDir } from './helpers.js';

export const expectedOf = (folder: string) => loadSafetensors(join(fixturesDir, folder, 'expected.safetensors'));

/** Runs a model on a fixture's inputs; returns the logits the fixture recorded (full for BERT, the first columns otherwise). */
export function fixtureLogits(forward: PretrainedModel['forward'], expected: Map<string, Tensor>): Float32Array {
  const logits = noGrad(() => forward({ inputIds: expected.get('input_ids')!, attentionMask: expected.get('attention_mask'), tokenTypeIds: expected.get('token_type_ids') } as never));
  if (expected.has('logits')) return logits.contiguousData();
  return logits.narrow(2, 0, expected.get('logits_slice')!.shape[2]).contiguousData();
}

/** The fixture README's tolerance: 1e-4 absolute, plus 1e-4 relative for BERT's larger logits. */
export function assertMatchesFixture(actual: Float32Array, expected: Map<string, Tensor>, label: string): void {
  const isBert = expected.has('logits');
  assertClose(actual, (expected.get('logits') ?? expected.get('logits_slice'))!.contiguousData(), 1e-4, isBert ? 1e-4 : 0, label);
}
