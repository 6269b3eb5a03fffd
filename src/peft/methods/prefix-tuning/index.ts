import { type ModelInput, type TokenModel, tokenShape } from '../../../models/index.js';
import { Embedding, type Linear, Module, normal_ } from '../../../nn/index.js';
import { noGrad, type Generator, type Tensor } from '../../../tensor/index.js';
import { type ConfigSpec, f, type Infer } from '../../config.js';
import type { InputMethod } from '../../method.js';
import { extendMask, firstStep, prefixKeysValues, PromptEncoder, promptLearningFields, resolveShape, torchLinear, type PromptLearningConfig, type Resolved } from '../../prompt-learning.js';

/** PrefixTuningConfig of HF PEFT 0.21, field for field. */
const prefixTuningFields = {
  ...promptLearningFields,
  prefix_projection: f.bool({ default: false, doc: 'produce the prefix with an MLP (embedding -> Linear -> tanh -> Linear) while training; only its output is saved' }),
  encoder_hidden_size: {
    ...f.int({ default: 0, min: 1, doc: 'hidden size of the prefix_projection MLP (null: token_dim)' }),
    accepts: 'a positive integer or null',
    default: null,
    check: (v: unknown): v is number | null => v === null || (Number.isInteger(v) && (v as number) >= 1),
  },
  init_weights: f.fixed(null, { doc: 'alternative prefix initialisations (not implemented: the prefix starts N(0, 1), as nn.Embedding)' }),
};

export type PrefixTuningConfig = PromptLearningConfig & Infer<typeof prefixTuningFields>;

const spec: ConfigSpec<PrefixTuningConfig> = { peftType: 'PREFIX_TUNING', label: 'prefix-tuning', fields: prefixTuningFields };

/** The parameter-free tanh of PEFT's projection (index 1 of its Sequential). */
class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

/**
 * The prefix: per layer, num_virtual_tokens keys and values every position attends to (PEFT's
 * PrefixEncoder). Flat [n, L * 2 * token_dim]; with prefix_projection (training only) it is the
 * output of an MLP on [n, token_dim] embeddings.
 */
export class PrefixEncoder extends PromptEncoder {
  embedding: Embedding;
  transform?: [Linear, Tanh, Linear];
  constructor(
    private readonly config: Resolved<PrefixTuningConfig>,
    generator: Generator,
  ) {
    super(config.num_virtual_tokens, 'prefix-tuning');
    const { num_virtual_tokens: n, num_layers: layers, token_dim: dim } = config;
    const projected = config.prefix_projection && !config.inference_mode;
    this.embedding = new Embedding(n, projected ? dim : layers * 2 * dim);
    if (config.inference_mode) return; // the saved prefix replaces any initialisation
    normal_(this.embedding.weight, 1, generator);
    if (projected) {
      const hidden = config.encoder_hidden_size ?? dim;
      this.transform = [torchLinear(dim, hidden, generator), new Tanh(), torchLinear(hidden, layers * 2 * dim, generator)];
    }
  }

  /** The flat prefix [n, L * 2 * token_dim]. */
  private prefix(): Tensor {
    const e = this.embedding.weight;
    return this.transform ? this.transform[2].forward(this.transform[0].forward(e).tanh()) : e;
  }

  tune(input: ModelInput, model: TokenModel): ModelInput {
    this.checkContext(input, model);
    const attentionMask = extendMask(input.attentionMask, this.numVirtualTokens);
    if (!firstStep(input)) return { ...input, attentionMask };
    const { num_layers: layers, num_attention_heads: heads, token_dim: dim } = this.config;
    return { ...input, attentionMask, pastKeyValues: prefixKeysValues(this.prefix(), tokenShape(input)[0], layers, heads, dim / heads) };
  }

  savedState(): Map<string, Tensor> {
    return new Map([['prompt_embeddings', this.transform ? noGrad(() => this.prefix().contiguous()) : this.embedding.weight]]);
  }
}

/** HF PEFT's PREFIX_TUNING: trainable keys and values in front of every layer's attention (Li and Liang, 2021). */
export const prefixTuning: InputMethod<PrefixTuningConfig> = {
  kind: 'input',
  name: 'prefix-tuning',
  summary: 'trainable per-layer keys and values every position attends to (optionally through an MLP)',
  config: spec,

  resolveConfig(config, model) {
    // As PEFT: the prefix has the width of the keys and values, so grouped-query models use their kv heads.
    const { layers, kvHeads, headDim } = model.keyValueLayout();
    resolveShape('prefix-tuning', config, { token_dim: kvHeads * headDim, num_layers: layers, num_attention_heads: kvHeads });
  },

  create(config, { generator }) {
    return new PrefixEncoder(config as Resolved<PrefixTuningConfig>, generator);
  },
};
