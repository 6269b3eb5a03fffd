import type { CausalLM } from '../models/index.js';
import { crossEntropy } from '../tensor/index.js';
import type { Batch } from './batching.js';
import type { TrainTarget } from './trainer.js';

/**
 * Next-token cross-entropy on a causal LM, training whatever requires grad (an adapter, or the
 * whole model when pretraining); `save` writes the result (adapter files, or a checkpoint).
 */
export function causalLMTarget(model: CausalLM, save: (dir: string) => void): TrainTarget {
  return {
    lossSum: (batch: Batch) => crossEntropy(model.forward({ inputIds: batch.inputIds, attentionMask: batch.attentionMask }), batch.targets, { reduction: 'sum' }),
    namedParameters: () => model.trainableParameters(),
    save,
    train: (mode) => { model.train(mode); },
  };
}
