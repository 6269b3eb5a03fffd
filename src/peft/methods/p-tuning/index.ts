import { ConfigError } from '../../../errors.js';
import type { ModelInput, TokenModel } from '../../../models/index.js';
import { Embedding, type Linear, Module, normal_ } from '../../../nn/index.js';
import { noGrad, type Generator, type Tensor } from '../../../tensor/index.js';
import { type ConfigSpec, f, type Infer } from '../../config.js';
import type { InputMethod } from '../../method.js';
import { configuredHeads, prependVirtualTokens, PromptEncoder, promptLearningFields, resolveShape, torchLinear, type PromptLearningConfig, type Resolved } from '../../prompt-learning.js';
import { BidirectionalLSTM } from './lstm.js';

/** PromptEncoderConfig of HF PEFT 0.21, field for field. */
const pTuningFields = {
  ...promptLearningFields,
  encoder_reparameterization_type: f.oneOf(['MLP', 'LSTM'], { default: 'MLP', doc: 'the encoder that produces the prompt while training: a 3-layer MLP, or a bidirectional LSTM and a 2-layer MLP' }),
  encoder_hidden_size: {
    ...f.int({ default: 0, min: 1, doc: 'hidden size of the encoder (null: token_dim)' }),
    accepts: 'a positive integer or null',
    default: null,
    check: (v: unknown): v is number | null => v === null || (Number.isInteger(v) && (v as number) >= 1),
  },
  encoder_num_layers: f.int({ default: 2, min: 1, doc: "LSTM layers (the MLP always has PEFT's three linear layers)" }),
  encoder_dropout: f.number({ default: 0, min: 0, max: 1, maxExclusive: true, doc: 'dropout between LSTM layers (the MLP has none)' }),
};

export type PTuningConfig = PromptLearningConfig & Infer<typeof pTuningFields> & { encoder_reparameterization_type: 'MLP' | 'LSTM' };

const spec: ConfigSpec<PTuningConfig> = {
  peftType: 'P_TUNING',
  label: 'p-tuning',
  fields: pTuningFields,
  validate(c) {
    // PEFT ignores these for the MLP with a warning; a setting that does nothing is an error here (inference reads only the saved prompt).
    if (c.inference_mode || c.encoder_reparameterization_type !== 'MLP') return;
    if (c.encoder_num_layers !== 2)
      throw new ConfigError(`[p-tuning] encoder_num_layers ${c.encoder_num_layers} has no effect on the MLP encoder (always three linear layers).`, {
        hint: 'Leave it at 2, or use encoder_reparameterization_type LSTM.',
      });
    if (c.encoder_dropout !== 0)
      throw new ConfigError(`[p-tuning] encoder_dropout ${c.encoder_dropout} has no effect on the MLP encoder (it has no dropout).`, {
        hint: 'Leave it at 0, or use encoder_reparameterization_type LSTM.',
      });
  },
};

class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

/**
 * P-tuning's prompt (PEFT's PromptEncoder): while training, an encoder (MLP or LSTM + MLP) maps
 * trainable embeddings to the virtual tokens; PEFT saves only its output, so a loaded adapter
 * (inference mode) puts the saved embeddings in front directly.
 */
export class PTuningEncoder extends PromptEncoder {
  embedding: Embedding;
  lstm_head?: BidirectionalLSTM;
  mlp_head?: (Linear | ReLU)[];
  constructor(config: Resolved<PTuningConfig>, generator: Generator) {
    super(config.num_virtual_tokens * config.num_transformer_submodules, 'p-tuning');
    const dim = config.token_dim;
    this.embedding = new Embedding(this.numVirtualTokens, dim);
    if (config.inference_mode) return; // the saved prompt replaces any initialisation
    normal_(this.embedding.weight, 1, generator);
    const hidden = config.encoder_hidden_size ?? dim;
    if (config.encoder_reparameterization_type === 'LSTM') {
      this.lstm_head = new BidirectionalLSTM(dim, hidden, config.encoder_num_layers, config.encoder_dropout, generator);
      this.mlp_head = [torchLinear(2 * hidden, 2 * hidden, generator), new ReLU(), torchLinear(2 * hidden, dim, generator)];
    } else {
      this.mlp_head = [torchLinear(dim, hidden, generator), new ReLU(), torchLinear(hidden, hidden, generator), new ReLU(), torchLinear(hidden, dim, generator)];
    }
  }

  /** The virtual token embeddings [n, token_dim]. */
  private prompts(): Tensor {
    if (!this.mlp_head) return this.embedding.weight;
    const x = this.lstm_head ? this.lstm_head.forward(this.embedding.weight) : this.embedding.weight;
    return this.mlp_head.reduce((h, layer) => layer.forward(h), x);
  }

  tune(input: ModelInput, model: TokenModel): ModelInput {
    this.checkContext(input, model);
    return prependVirtualTokens(input, model, this.prompts());
  }

  savedState(): Map<string, Tensor> {
    return new Map([['prompt_embeddings', this.mlp_head ? noGrad(() => this.prompts().contiguous()) : this.embedding.weight]]);
  }
}

/** HF PEFT's P_TUNING: virtual tokens produced by a trained encoder (Liu et al., 2021, "GPT Understands, Too"). */
export const pTuning: InputMethod<PTuningConfig> = {
  kind: 'input',
  name: 'p-tuning',
  summary: 'virtual tokens produced by a trained MLP or LSTM encoder; saved as the encoder output',
  config: spec,

  resolveConfig(config, model) {
    resolveShape('p-tuning', config, { token_dim: model.inputEmbeddings().dim, num_layers: model.config.numLayers, num_attention_heads: configuredHeads(model) });
  },

  create(config, { generator }) {
    return new PTuningEncoder(config as Resolved<PTuningConfig>, generator);
  },
};
