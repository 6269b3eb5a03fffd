import { ArgumentError } from '../../../errors.js';
import { inputEmbeddings, tokenShape, type ModelInput, type TokenModel } from '../../../models/index.js';
import { Embedding, kaimingUniform_ } from '../../../nn/index.js';
import { concat, embedding, Tensor, type Generator } from '../../../tensor/index.js';
import { type ConfigSpec, f, type Infer } from '../../config.js';
import type { InputMethod } from '../../method.js';
import { configuredHeads, prependVirtualTokens, PromptEncoder, promptLearningFields, resolveShape, type PromptLearningConfig, type Resolved } from '../../prompt-learning.js';

/**
 * DePT's config (Shi and Lipani, 2024, "DePT: Decomposed Prompt Tuning"). HF PEFT has no DePT;
 * peft-ts saves it in the prompt-learning layout with peft_type "DEPT": prompt_embeddings
 * [num_virtual_tokens, d], lora_embedding_A [low_rank_positions, r], lora_embedding_B [r, d].
 */
const deptFields = {
  ...promptLearningFields,
  r: f.int({ default: 4, min: 1, doc: 'rank of the update A@B added to the input embeddings' }),
  low_rank_positions: f.int({ default: 256, min: 1, doc: 'token positions the update covers (A has one row per position; later positions are left as they are)' }),
  low_rank_learning_rate: {
    ...f.number({ default: 0, min: 0, doc: "learning rate of A and B (null: the trainer's); the prompt trains at the trainer's" }),
    accepts: 'a number >= 0 or null',
    default: null,
    check: (v: unknown): v is number | null => v === null || (typeof v === 'number' && v >= 0 && Number.isFinite(v)),
  },
};

export type DeptConfig = PromptLearningConfig & Infer<typeof deptFields>;

const spec: ConfigSpec<DeptConfig> = { peftType: 'DEPT', label: 'dept', fields: deptFields };

/**
 * A short soft prompt in front of the input plus a low-rank update of the input's own token
 * embeddings: position i (counted over a row's real tokens, so padding does not shift it) gets
 * row i of A@B added. B starts at zero, so a fresh adapter is plain prompt tuning.
 */
export class DeptEncoder extends PromptEncoder {
  embedding: Embedding;
  lora_embedding_A: Tensor;
  lora_embedding_B: Tensor;
  constructor(
    private readonly config: Resolved<DeptConfig>,
    model: TokenModel,
    generator: Generator,
  ) {
    super(config.num_virtual_tokens, 'dept');
    const d = config.token_dim;
    this.embedding = new Embedding(config.num_virtual_tokens, d);
    this.lora_embedding_A = Tensor.zeros([config.low_rank_positions, config.r]);
    this.lora_embedding_B = Tensor.zeros([config.r, d]);
    if (config.inference_mode) return; // the saved tensors replace any initialisation
    // The prompt starts from embeddings of random vocabulary tokens, as DePT's code does; A as LoRA's A.
    const table = model.inputEmbeddings(),
      rows = table.weight.contiguousData(),
      data = this.embedding.weight.data as Float32Array;
    for (let i = 0; i < config.num_virtual_tokens; i++) {
      const id = Math.min(table.numEmbeddings - 1, Math.floor(generator.uniform() * table.numEmbeddings));
      data.set(rows.subarray(id * d, (id + 1) * d), i * d);
    }
    kaimingUniform_(this.lora_embedding_A, Math.sqrt(5), generator);
  }

  /** Each token's position among its row's real tokens (the cache's included); low_rank_positions beyond the covered ones. */
  private tokenPositions(input: ModelInput): Tensor {
    const [b, t] = tokenShape(input);
    const past = input.cache ? input.cache.length - this.numVirtualTokens : 0;
    const mask = input.attentionMask ? (input.attentionMask.dtype === 'int32' ? input.attentionMask.int32Data() : input.attentionMask.contiguousData()) : null;
    const s = input.attentionMask?.shape[1] ?? 0;
    const out = new Int32Array(b * t);
    for (let row = 0; row < b; row++) {
      let seen = mask ? 0 : past;
      for (let j = 0; j < (mask ? s : 0); j++) if (j < s - t && mask![row * s + j]) seen++;
      for (let i = 0; i < t; i++) {
        const real = !mask || mask[row * s + s - t + i];
        out[row * t + i] = Math.min(seen, this.config.low_rank_positions);
        if (real) seen++;
      }
    }
    return new Tensor(out, [b, t]);
  }

  tune(input: ModelInput, model: TokenModel): ModelInput {
    this.checkContext(input, model);
    if (input.inputsEmbeds) throw new ArgumentError('[dept] DePT updates the token embeddings itself; pass inputIds.', 'Give token ids, not embeddings.');
    // Row low_rank_positions of the table is zero: positions past the covered ones are unchanged.
    const update = concat([this.lora_embedding_A.matmul(this.lora_embedding_B), Tensor.zeros([1, this.config.token_dim])], 0);
    const embeds = inputEmbeddings(input, model.inputEmbeddings()).add(embedding(update, this.tokenPositions(input)));
    return prependVirtualTokens({ ...input, inputIds: undefined, inputsEmbeds: embeds }, model, this.embedding.weight);
  }

  savedState(): Map<string, Tensor> {
    return new Map([
      ['prompt_embeddings', this.embedding.weight],
      ['lora_embedding_A', this.lora_embedding_A],
      ['lora_embedding_B', this.lora_embedding_B],
    ]);
  }

  override learningRates(): Map<string, number> {
    const lr = this.config.low_rank_learning_rate;
    return lr === null
      ? new Map()
      : new Map([
          ['lora_embedding_A', lr],
          ['lora_embedding_B', lr],
        ]);
  }
}

/** DePT: a shorter soft prompt plus a low-rank update of the input embeddings, each with its own learning rate. */
export const dept: InputMethod<DeptConfig> = {
  kind: 'input',
  name: 'dept',
  summary: 'decomposed prompt tuning: a short soft prompt plus a low-rank update A@B of the input embeddings, two learning rates',
  config: spec,

  resolveConfig(config, model) {
    resolveShape('dept', config, { token_dim: model.inputEmbeddings().dim, num_layers: model.config.numLayers, num_attention_heads: configuredHeads(model) });
  },

  create(config, { model, generator }) {
    return new DeptEncoder(config as Resolved<DeptConfig>, model, generator);
  },
};
