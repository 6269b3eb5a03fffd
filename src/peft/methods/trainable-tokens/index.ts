import { ConfigError } from '../../../errors.js';
import { Embedding, Linear, Module, ModuleDict } from '../../../nn/index.js';
import { embedding, linear, Tensor } from '../../../tensor/index.js';
import { type ConfigSpec, f, type Infer, targetFields } from '../../config.js';
import type { LayerMethod, TargetedConfig } from '../../method.js';
import { TunerLayer } from '../../tuner-layer.js';

/** The replacement rows of one adapter, [tokens, dim]: a module so its parameter is named `.weight`. */
class TokenRows extends Module {
  constructor(
    public weight: Tensor,
    readonly tokenIndices: readonly number[],
  ) {
    super();
  }
  /** For a tied LM head: [tokens, vocab] placing each row's logit in its token's column, and the mask of the other columns. Made once, not per forward. */
  #output: { scatter: Tensor; keep: Tensor } | null = null;
  outputPlacement(vocab: number): { scatter: Tensor; keep: Tensor } {
    if (this.#output?.keep.shape[0] !== vocab) {
      const scatter = new Float32Array(this.tokenIndices.length * vocab);
      const keep = new Float32Array(vocab).fill(1);
      this.tokenIndices.forEach((t, i) => {
        scatter[i * vocab + t] = 1;
        keep[t] = 0;
      });
      this.#output = { scatter: new Tensor(scatter, [this.tokenIndices.length, vocab]), keep: new Tensor(keep, [vocab]) };
    }
    return this.#output;
  }
}

/** 1 where `ids` is one of the adapter's tokens, and the row of each id in the adapter's table (0 elsewhere). */
function tokenLookup(ids: Tensor, tokenIndices: readonly number[]): { mask: Tensor; rows: Tensor } {
  const where = new Map(tokenIndices.map((t, i) => [t, i]));
  const data = ids.int32Data();
  const mask = new Float32Array(data.length),
    rows = new Int32Array(data.length);
  data.forEach((id, i) => {
    const row = where.get(id);
    if (row !== undefined) {
      mask[i] = 1;
      rows[i] = row;
    }
  });
  return { mask: new Tensor(mask, [...ids.shape, 1]), rows: new Tensor(rows, ids.shape, { dtype: 'int32' }) };
}

/**
 * Trainable tokens (HF PEFT's TrainableTokensLayer): only the rows of `token_indices` in an
 * embedding train; the adapter holds their replacement values, saved as
 * `<path>.trainable_tokens_delta`. An output layer tied to that embedding uses the same rows.
 */
export class TrainableTokensLayer extends TunerLayer<Embedding | Linear> {
  readonly effect = 'replaces embedding rows';
  trainable_tokens_delta = new ModuleDict<TokenRows>();
  /** For an LM head tied to the embedding: the embedding layer's rows, shared, neither saved nor merged twice. */
  #tiedTo: TrainableTokensLayer | null = null;
  /** The rows the merged adapter overwrote. */
  #original: Float32Array | null = null;

  addAdapter(name: string, tokenIndices: readonly number[], initWeights: boolean, randn: (shape: number[]) => Tensor): void {
    const W = this.base_layer.weight;
    const [vocab, dim] = W.shape;
    const bad = tokenIndices.find((t) => t >= vocab);
    if (bad !== undefined) throw new ConfigError(`[trainable_tokens] token_indices holds ${bad}, outside the vocabulary [0, ${vocab}).`, { hint: "Use ids from this model's tokenizer." });
    const init = initWeights ? new Tensor(Float32Array.from(tokenIndices.flatMap((t) => [...W.narrow(0, t, 1).contiguousData()])), [tokenIndices.length, dim]) : randn([tokenIndices.length, dim]);
    this.trainable_tokens_delta.items.set(name, new TokenRows(init, tokenIndices));
  }

  /** Makes this output layer use `embeddingLayer`'s rows (its weight is the embedding's). */
  tieTo(embeddingLayer: TrainableTokensLayer): void {
    this.#tiedTo = embeddingLayer;
  }

  private rows(name: string): TokenRows {
    return (this.#tiedTo ?? this).trainable_tokens_delta.items.get(name)!;
  }

  adapterNames(): string[] {
    return [...(this.#tiedTo ?? this).trainable_tokens_delta.items.keys()];
  }

  override adapterState(name: string): Map<string, Tensor> {
    return this.#tiedTo ? new Map() : new Map([['trainable_tokens_delta', this.rows(name).weight]]);
  }

  protected removeAdapter(name: string): void {
    this.trainable_tokens_delta.items.delete(name);
  }

  protected override forwardWith(x: Tensor, adapters: readonly string[]): Tensor {
    let y = this.baseForward(x);
    for (const name of adapters) {
      const { weight, tokenIndices } = this.rows(name);
      if (this.base_layer instanceof Embedding) {
        const { mask, rows } = tokenLookup(x, tokenIndices);
        y = y.mul(mask.neg().add(1)).add(embedding(weight, rows).mul(mask));
      } else {
        // Tied output layer: the logits of the adapter's tokens come from its rows.
        const { scatter, keep } = this.rows(name).outputPlacement(this.base_layer.outFeatures);
        y = y.mul(keep).add(linear(x, weight).matmul(scatter));
      }
    }
    return y;
  }

  protected override mergeAdapter(name: string): void {
    if (this.#tiedTo) return; // the embedding's merge writes the shared weight
    const { weight, tokenIndices } = this.rows(name);
    const W = this.base_layer.weight,
      dim = W.shape[1],
      data = W.data as Float32Array,
      values = weight.contiguousData();
    this.#original = new Float32Array(tokenIndices.length * dim);
    tokenIndices.forEach((t, i) => {
      this.#original!.set(data.subarray(W.offset + t * dim, W.offset + (t + 1) * dim), i * dim);
      data.set(values.subarray(i * dim, (i + 1) * dim), W.offset + t * dim);
    });
  }

  protected override unmergeAdapter(name: string): void {
    if (this.#tiedTo) return;
    const { tokenIndices } = this.rows(name);
    const W = this.base_layer.weight,
      dim = W.shape[1];
    tokenIndices.forEach((t, i) => (W.data as Float32Array).set(this.#original!.subarray(i * dim, (i + 1) * dim), W.offset + t * dim));
    this.#original = null;
  }
}

const trainableTokensFields = {
  target_modules: targetFields.target_modules,
  token_indices: {
    ...f.intList({ default: null, doc: 'the token ids whose embedding rows train' }),
    accepts: 'a non-empty list of distinct non-negative token ids',
    check: (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((t) => Number.isInteger(t) && t >= 0) && new Set(v).size === v.length,
  },
  init_weights: f.bool({ default: true, doc: 'start from the current rows (true) or random values (false)' }),
};
type TrainableTokensConfig = TargetedConfig & Infer<typeof trainableTokensFields> & { token_indices: number[] };

const trainableTokensConfigSpec: ConfigSpec<TrainableTokensConfig> = { peftType: 'TRAINABLE_TOKENS', label: 'trainable_tokens', fields: trainableTokensFields };

/** PEFT's default: the input embedding (its name per architecture). */
const TRAINABLE_TOKENS_DEFAULT_TARGETS = { gpt2: ['wte'], llama: ['embed_tokens'], mistral: ['embed_tokens'], qwen2: ['embed_tokens'], bert: ['word_embeddings'] };

export const trainableTokens: LayerMethod<TrainableTokensConfig> = {
  kind: 'layer',
  name: 'trainable-tokens',
  summary: 'trains only the embedding rows of chosen token ids (and a tied LM head with them)',
  effect: 'replaces embedding rows',
  config: trainableTokensConfigSpec,
  defaultTargets: TRAINABLE_TOKENS_DEFAULT_TARGETS,

  tiedTargets(model, targets) {
    const weights = new Set(targets.map(([, m]) => (m as { weight?: Tensor }).weight).filter((w) => w));
    return model
      .namedModules()
      .filter(([, m]) => m instanceof Linear && weights.has(m.weight))
      .map(([n]) => n);
  },

  inject(module, { config, adapter, path, generator, tiedTo }) {
    if (tiedTo) {
      const layer = module instanceof TrainableTokensLayer ? module : new TrainableTokensLayer(module as Linear);
      layer.tieTo(tiedTo as TrainableTokensLayer);
      return layer;
    }
    const layer = module instanceof TrainableTokensLayer ? module : module instanceof Embedding ? new TrainableTokensLayer(module) : null;
    if (!layer)
      throw new ConfigError(`[trainable_tokens] '${path}' is a ${module.constructor.name}; trainable tokens adapt an Embedding.`, { hint: 'Target the input embedding (e.g. embed_tokens or wte).' });
    layer.addAdapter(adapter, config.token_indices, config.init_weights, (shape) => Tensor.randn(shape, generator));
    return layer;
  },
};
