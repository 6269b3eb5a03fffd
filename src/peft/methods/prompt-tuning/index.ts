import { ConfigError } from '../../../errors.js';
import type { ModelInput, TokenModel } from '../../../models/index.js';
import { Embedding, normal_ } from '../../../nn/index.js';
import { noGrad, type Generator, type Tensor } from '../../../tensor/index.js';
import { type ConfigSpec, f, type Infer } from '../../config.js';
import type { InputMethod } from '../../method.js';
import { configuredHeads, prependVirtualTokens, PromptEncoder, promptLearningFields, resolveShape, type PromptLearningConfig, type Resolved } from '../../prompt-learning.js';

/** PromptTuningConfig of HF PEFT 0.21, field for field. */
const promptTuningFields = {
  ...promptLearningFields,
  prompt_tuning_init: f.oneOf(['RANDOM', 'TEXT', 'SAMPLE_VOCAB'], {
    default: 'RANDOM',
    doc: 'initial prompt: N(0, 1), the embeddings of prompt_tuning_init_text, or embeddings of random vocabulary tokens',
  }),
  prompt_tuning_init_text: f.string({ default: null, doc: 'text whose token embeddings start the prompt (tiled or cut to num_virtual_tokens), with prompt_tuning_init TEXT' }),
  tokenizer_name_or_path: f.string({ default: null, doc: "the tokenizer PEFT loads for TEXT; peft-ts uses the model's own" }),
  tokenizer_kwargs: f.any({ default: null, doc: 'tokenizer options PEFT passes for TEXT (kept as is)' }),
};

export type PromptTuningConfig = PromptLearningConfig & Infer<typeof promptTuningFields> & { prompt_tuning_init: 'RANDOM' | 'TEXT' | 'SAMPLE_VOCAB' };

const spec: ConfigSpec<PromptTuningConfig> = {
  peftType: 'PROMPT_TUNING',
  label: 'prompt-tuning',
  fields: promptTuningFields,
  validate(c) {
    if (c.prompt_tuning_init === 'TEXT' && !c.prompt_tuning_init_text) {
      throw new ConfigError('[prompt-tuning] prompt_tuning_init TEXT needs prompt_tuning_init_text.', { hint: 'Give the text whose embeddings start the prompt, or use RANDOM.' });
    }
  },
};

/** The token ids a TEXT or SAMPLE_VOCAB prompt starts from (PEFT's PromptEmbedding init). */
function initialTokens(config: PromptTuningConfig, total: number, vocab: number, generator: Generator, tokenize: ((text: string) => number[]) | null): number[] {
  if (config.prompt_tuning_init === 'SAMPLE_VOCAB') return Array.from({ length: total }, () => Math.min(vocab - 1, Math.floor(generator.uniform() * vocab)));
  if (!tokenize)
    throw new ConfigError("[prompt-tuning] prompt_tuning_init TEXT needs the model's tokenizer.", { hint: "Create the PeftModel with { tokenize } (the CLI passes the model folder's tokenizer)." });
  const ids = tokenize(config.prompt_tuning_init_text!);
  if (ids.length === 0) throw new ConfigError('[prompt-tuning] prompt_tuning_init_text encodes to no tokens.', { hint: 'Give a non-empty text.' });
  return Array.from({ length: total }, (_, i) => ids[i % ids.length]);
}

/** Prompt tuning's trainable prompt: num_virtual_tokens embeddings put in front of the input. */
export class PromptEmbedding extends PromptEncoder {
  embedding: Embedding;
  constructor(numVirtualTokens: number, tokenDim: number) {
    super(numVirtualTokens, 'prompt-tuning');
    this.embedding = new Embedding(numVirtualTokens, tokenDim);
  }
  tune(input: ModelInput, model: TokenModel): ModelInput {
    this.checkContext(input, model);
    return prependVirtualTokens(input, model, this.embedding.weight);
  }
  savedState(): Map<string, Tensor> {
    return new Map([['prompt_embeddings', this.embedding.weight]]);
  }
}

/** HF PEFT's PROMPT_TUNING: trainable virtual token embeddings in front of the input (Lester et al., 2021). */
export const promptTuning: InputMethod<PromptTuningConfig> = {
  kind: 'input',
  name: 'prompt-tuning',
  summary: 'trainable virtual token embeddings in front of the input (RANDOM, TEXT or SAMPLE_VOCAB init)',
  config: spec,

  resolveConfig(config, model) {
    resolveShape('prompt-tuning', config, { token_dim: model.inputEmbeddings().dim, num_layers: model.config.numLayers, num_attention_heads: configuredHeads(model) });
  },

  create(raw, { model, generator, tokenize }) {
    const config = raw as Resolved<PromptTuningConfig>;
    const encoder = new PromptEmbedding(config.num_virtual_tokens * config.num_transformer_submodules, config.token_dim);
    const weight = encoder.embedding.weight;
    if (config.inference_mode) return encoder; // the saved prompt replaces any initialisation
    if (config.prompt_tuning_init === 'RANDOM') normal_(weight, 1, generator);
    else {
      const table = model.inputEmbeddings();
      const ids = initialTokens(config, weight.shape[0], table.numEmbeddings, generator, tokenize);
      const rows = noGrad(() => table.weight.contiguous().contiguousData());
      const data = weight.data as Float32Array;
      ids.forEach((id, i) => data.set(rows.subarray(id * table.dim, (id + 1) * table.dim), weight.offset + i * table.dim));
    }
    return encoder;
  },
};
