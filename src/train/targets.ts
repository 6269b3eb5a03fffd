import { ArgumentError } from '../errors.js';
import { causalLMLoss, type CausalLM, type SequenceClassifier } from '../models/index.js';
import type { TrainingHooks } from '../peft/index.js';
import { crossEntropy, Tensor } from '../tensor/index.js';
import { IGNORE, type Batch, type LMExample } from './batching.js';
import type { TrainTarget } from './trainer.js';

/**
 * Next-token cross-entropy on a causal LM, training whatever requires grad (an adapter, or the
 * whole model when pretraining); `save` writes the result (adapter files, or a checkpoint);
 * `methodHooks` are the adapter method's per-step hooks (PeftModel.trainingHooks()).
 */
export function causalLMTarget(model: CausalLM, save: (dir: string) => void, methodHooks?: TrainingHooks): TrainTarget {
  return {
    methodHooks,
    lossSum: (batch: Batch) => causalLMLoss(model, { inputIds: batch.inputIds, attentionMask: batch.attentionMask }, batch.targets, 'sum'),
    namedParameters: () => model.trainableParameters(),
    save,
    train: (mode) => {
      model.train(mode);
    },
  };
}

/**
 * Classification by label words (a verbalizer): each example is a prompt followed by one label
 * token, and the loss is the cross-entropy among the label tokens only, read at the prompt's
 * last position. Rows are left-padded so that position is the last column, and the LM head runs
 * on it alone. Scoring the same label words with the LM (the eval harness) ranks them identically.
 */
export function labelWordTarget(model: CausalLM, labelTokens: readonly number[], save: (dir: string) => void, methodHooks?: TrainingHooks): TrainTarget {
  const V = model.config.vocabSize,
    K = labelTokens.length;
  const select = new Float32Array(V * K);
  labelTokens.forEach((id, k) => {
    select[id * K + k] = 1;
  });
  const selection = new Tensor(select, [V, K]);
  return {
    collate(examples: readonly LMExample[], padId: number): Batch {
      const T = Math.max(...examples.map((e) => e.inputIds.length - 1));
      const B = examples.length;
      const ids = new Int32Array(B * T).fill(padId),
        mask = new Float32Array(B * T),
        labels = new Int32Array(B);
      let tokens = 0;
      examples.forEach((e, b) => {
        const answer = e.labels[e.labels.length - 1];
        const k = labelTokens.indexOf(answer);
        if (k < 0 || e.labels.slice(0, -1).some((l) => l !== IGNORE)) {
          throw new ArgumentError(`[train] a label-word example must end in one of the label tokens ${labelTokens.join(', ')}.`, 'Use single-token choices such as " yes" / " no".');
        }
        const n = e.inputIds.length - 1;
        ids.set(e.inputIds.slice(0, n), b * T + T - n);
        mask.fill(1, b * T + T - n, (b + 1) * T);
        labels[b] = k;
        tokens += n;
      });
      return { inputIds: new Tensor(ids, [B, T]), attentionMask: new Tensor(mask, [B, T]), targets: new Tensor(labels, [B]), targetCount: B, tokens };
    },
    lossSum: (batch: Batch) => {
      const B = batch.inputIds.shape[0];
      const last = model.forward({ inputIds: batch.inputIds, attentionMask: batch.attentionMask, logitsToKeep: 1 }).reshape([B, V]);
      return crossEntropy(last.matmul(selection), batch.targets, { reduction: 'sum' });
    },
    methodHooks,
    namedParameters: () => model.trainableParameters(),
    save,
    train: (mode) => {
      model.train(mode);
    },
  };
}

/**
 * A sequence classifier's head on its labels (transformers' single-label loss): each example is a
 * text with labels = [class index]; rows are right-padded with the model's pad id, which is how
 * decoder classifiers find each row's last token.
 */
export function sequenceClassificationTarget(model: SequenceClassifier, save: (dir: string) => void, methodHooks?: TrainingHooks): TrainTarget {
  return {
    methodHooks,
    collate(examples: readonly LMExample[], padId: number): Batch {
      const T = Math.max(...examples.map((e) => e.inputIds.length));
      const B = examples.length;
      const ids = new Int32Array(B * T).fill(padId),
        mask = new Float32Array(B * T),
        labels = new Int32Array(B);
      let tokens = 0;
      examples.forEach((e, b) => {
        const k = e.labels[0];
        if (e.labels.length !== 1 || !Number.isInteger(k) || k < 0 || k >= model.config.numLabels) {
          throw new ArgumentError(
            `[train] a classification example needs one label in 0..${model.config.numLabels - 1}, got ${JSON.stringify(e.labels)}.`,
            'Check the label field and the number of labels.',
          );
        }
        ids.set(e.inputIds, b * T);
        mask.fill(1, b * T, b * T + e.inputIds.length);
        labels[b] = k;
        tokens += e.inputIds.length;
      });
      return { inputIds: new Tensor(ids, [B, T]), attentionMask: new Tensor(mask, [B, T]), targets: new Tensor(labels, [B]), targetCount: B, tokens };
    },
    lossSum: (batch: Batch) => crossEntropy(model.forward({ inputIds: batch.inputIds, attentionMask: batch.attentionMask }), batch.targets, { reduction: 'sum' }),
    namedParameters: () => model.trainableParameters(),
    save,
    train: (mode) => {
      model.train(mode);
    },
  };
}
