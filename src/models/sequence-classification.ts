import { ArgumentError } from '../errors.js';
import { type Embedding, type KVLayout, Linear, Module, normal_ } from '../nn/index.js';
import { Generator, Tensor } from '../tensor/index.js';
import type { CausalLMInput, EncoderInput, ModelConfig, SequenceClassifier } from './model.js';

export type ClassifierConfig = ModelConfig & { numLabels: number };

/** The label count a config.json declares: num_labels, else the size of id2label, else transformers' default 2. */
export function numLabelsOf(raw: Record<string, unknown>): number {
  if (Number.isInteger(raw.num_labels)) return raw.num_labels as number;
  const id2label = raw.id2label;
  return id2label && typeof id2label === 'object' ? Object.keys(id2label).length : 2;
}

/**
 * Each row's last token that is not padding, as transformers picks it: the rightmost token that
 * is not pad_token_id (so left and right padding both work). Without a pad id the last column,
 * and then only a batch of one is unambiguous, as transformers requires.
 */
export function lastTokenIndices(inputIds: Tensor, padTokenId: number | undefined): number[] {
  const [B, T] = inputIds.shape;
  if (padTokenId === undefined) {
    if (B > 1)
      throw new ArgumentError(
        '[classify] the model config has no pad_token_id, so the last token of a padded batch is unknown.',
        'Set pad_token_id in config.json (often the eos id), or classify one text at a time.',
      );
    return [T - 1];
  }
  const ids = inputIds.int32Data();
  return Array.from({ length: B }, (_, b) => {
    for (let t = T - 1; t >= 0; t--) if (ids[b * T + t] !== padTokenId) return t;
    return T - 1;
  });
}

/** Decoder hidden states [B, T, C]: the body of a causal LM without its head. */
export interface DecoderBody extends Module {
  forward(input: CausalLMInput): Tensor;
  keyValueLayout(): Omit<KVLayout, 'batch'>;
}

/**
 * transformers' ...ForSequenceClassification for decoders (GPT-2, Llama, Qwen2, Mistral): a
 * bias-free `score` head on the hidden state of each row's last non-pad token. The body keeps
 * its checkpoint name (`transformer` for GPT-2, `model` for Llama), so HF's keys load as they are.
 */
export abstract class DecoderForSequenceClassification extends Module implements SequenceClassifier {
  readonly task = 'sequence-classification' as const;
  score: Linear;
  constructor(readonly config: ClassifierConfig) {
    super();
    this.score = new Linear(config.hiddenSize, config.numLabels, false);
    // transformers' _init_weights: normal(0, initializer_range); kept when the checkpoint is a plain LM.
    const std = typeof config.raw.initializer_range === 'number' ? config.raw.initializer_range : 0.02;
    normal_(this.score.weight, std, new Generator(0));
  }
  protected abstract body(): DecoderBody;
  abstract inputEmbeddings(): Embedding;
  keyValueLayout(): Omit<KVLayout, 'batch'> {
    return this.body().keyValueLayout();
  }
  forward(input: EncoderInput): Tensor {
    if (!input.inputIds) throw new ArgumentError('[classifier] a decoder classifier pools at the last non-pad token and needs input ids.', 'Pass inputIds.');
    const hidden = this.body().forward({ inputIds: input.inputIds, attentionMask: input.attentionMask });
    const [B, T] = input.inputIds!.shape;
    const pick = new Float32Array(B * T);
    lastTokenIndices(input.inputIds!, this.config.padTokenId).forEach((t, b) => {
      pick[b * T + t] = 1;
    });
    const pooled = hidden.mul(new Tensor(pick, [B, T, 1])).sum(1);
    return this.score.forward(pooled);
  }
}
