import { ArgumentError, ConfigError } from '../errors.js';
import { inputEmbeddings, tokenShape, type ModelInput, type InputTuner, type TokenModel } from '../models/index.js';
import { kaimingUniform_, Linear, Module, ModuleDict, uniform_, type KVPrefix } from '../nn/index.js';
import { concat, Tensor, type Generator } from '../tensor/index.js';
import { type BaseConfig, f, type Infer } from './config.js';

/** Fields every prompt-learning config has (PEFT's PromptLearningConfig); null ones are filled from the model. */
export const promptLearningFields = {
  num_virtual_tokens: f.int({ default: 20, min: 1, doc: 'number of virtual tokens (or prefix positions) put in front of every input' }),
  token_dim: {
    ...f.int({ default: 0, min: 1, doc: 'width of a virtual token (the hidden size; for prefix tuning the key/value width); filled from the model' }),
    accepts: 'a positive integer or null',
    default: null,
    check: (v: unknown): v is number | null => v === null || (Number.isInteger(v) && (v as number) >= 1),
  },
  num_transformer_submodules: {
    ...f.int({ default: 1, min: 1, max: 1, doc: 'prompt copies: 1 for decoders and encoders (2, encoder-decoder, is not supported)' }),
    accepts: '1 or null',
    default: null,
    check: (v: unknown): v is number | null => v === null || v === 1,
  },
  num_attention_heads: {
    ...f.int({ default: 0, min: 1, doc: "attention heads (for prefix tuning, the model's key/value heads); filled from the model" }),
    accepts: 'a positive integer or null',
    default: null,
    check: (v: unknown): v is number | null => v === null || (Number.isInteger(v) && (v as number) >= 1),
  },
  num_layers: {
    ...f.int({ default: 0, min: 1, doc: 'transformer layers; filled from the model' }),
    accepts: 'a positive integer or null',
    default: null,
    check: (v: unknown): v is number | null => v === null || (Number.isInteger(v) && (v as number) >= 1),
  },
  modules_to_save: f.stringList({ default: null, doc: 'modules trained in full and saved with the adapter (e.g. classifier heads)' }),
};

export type PromptLearningConfig = BaseConfig & Infer<typeof promptLearningFields>;

/** The resolved shape fields, after resolveConfig. */
export type Resolved<C extends PromptLearningConfig> = C & { token_dim: number; num_layers: number; num_attention_heads: number; num_transformer_submodules: number };

/** Fills token_dim, num_layers, num_attention_heads and num_transformer_submodules from the model (as PEFT's _prepare_prompt_learning_config), checking any given value fits. */
export function resolveShape(label: string, config: PromptLearningConfig, values: { token_dim: number; num_layers: number; num_attention_heads: number }): void {
  if (config.task_type === 'SEQ_2_SEQ_LM') throw new ConfigError(`[${label}] task_type SEQ_2_SEQ_LM is not supported.`, { hint: 'peft-ts loads decoder (CAUSAL_LM) and encoder (SEQ_CLS) models.' });
  config.num_transformer_submodules ??= 1;
  for (const key of ['token_dim', 'num_layers', 'num_attention_heads'] as const) {
    const given = config[key];
    if (given !== null && given !== values[key]) {
      throw new ConfigError(`[${label}] ${key} is ${given}, but this model needs ${values[key]}.`, {
        hint: 'The adapter was made for a different base model; leave the field out to fill it from the model.',
      });
    }
    config[key] = values[key];
  }
}

/** The attention-head count config.json names (num_attention_heads, or GPT-2's n_head). */
export function configuredHeads(model: TokenModel): number {
  const raw = model.config.raw;
  const heads = raw.num_attention_heads ?? raw.n_head;
  if (!Number.isInteger(heads)) throw new ConfigError('[peft] the model config names no attention-head count.', { hint: 'config.json needs num_attention_heads (or n_head).' });
  return heads as number;
}

/** torch.nn.Linear with PyTorch's default initialisation (prompt encoders): kaiming_uniform(a=sqrt(5)) weight, U(+-1/sqrt(fan_in)) bias. */
export function torchLinear(inFeatures: number, outFeatures: number, generator: Generator): Linear {
  const layer = new Linear(inFeatures, outFeatures);
  kaimingUniform_(layer.weight, Math.sqrt(5), generator);
  const bound = 1 / Math.sqrt(inFeatures);
  uniform_(layer.bias!, -bound, bound, generator);
  return layer;
}

/**
 * One adapter of a prompt-based method: it owns the trainable prompt (and any encoder that
 * produces it) and says how the model input changes. Field names are PEFT's, so parameters
 * get PEFT's names under `input_tuner.prompt_encoder.<adapter>.`.
 */
export abstract class PromptEncoder extends Module {
  constructor(
    readonly numVirtualTokens: number,
    readonly label: string,
  ) {
    super();
  }

  /** The input the model runs with this adapter, for an input whose tokens start after `past` cached positions. */
  abstract tune(input: ModelInput, model: TokenModel): ModelInput;
  /** The tensors PEFT saves for this adapter (a reparameterised prompt is saved as the encoder's output). */
  abstract savedState(): Map<string, Tensor>;
  /** Parameters (local names) that train with their own learning rate (DePT's low-rank pair). */
  learningRates(): Map<string, number> {
    return new Map();
  }

  /** Checks the input leaves room for the virtual tokens within the model's positions. */
  protected checkContext(input: ModelInput, model: TokenModel): void {
    const t = tokenShape(input)[1];
    const past = input.cache?.length ?? 0;
    const max = model.config.maxPositions;
    const used = (firstStep(input) ? this.numVirtualTokens : 0) + past + t;
    if (used > max) {
      throw new ArgumentError(
        `[${this.label}] ${past ? `${past} cached + ` : ''}${t} tokens do not fit in the ${max - this.numVirtualTokens} positions the model's ${max} leave after ${this.numVirtualTokens} virtual tokens.`,
        `Keep inputs to ${max - this.numVirtualTokens} tokens (cut the start of long prompts) or use fewer virtual tokens.`,
      );
    }
    if (input.positionIds) throw new ArgumentError(`[${this.label}] positionIds cannot be given with virtual tokens.`, 'Leave them out: positions count from the first virtual token, as in PEFT.');
  }
}

/** True when the virtual tokens still have to be put in front: no cache, or an empty one (the first step). */
export function firstStep(input: ModelInput): boolean {
  return !input.cache || input.cache.length === 0;
}

/** The attention mask with ones in front for n virtual positions. */
export function extendMask(mask: Tensor | undefined, n: number): Tensor | undefined {
  if (!mask) return undefined;
  const [b] = mask.shape;
  return concat([new Tensor(new Float32Array(b * n).fill(1), [b, n]), mask.float()], 1);
}

/**
 * Virtual token embeddings [n, d] put in front of the input's embeddings, with the mask and
 * token types extended (PEFT's forward for prompt tuning and p-tuning). A cached step only
 * extends the mask: the virtual tokens are already in the cache.
 */
export function prependVirtualTokens(input: ModelInput, model: TokenModel, prompts: Tensor): ModelInput {
  const n = prompts.shape[0];
  const mask = extendMask(input.attentionMask, n);
  if (!firstStep(input)) return { ...input, attentionMask: mask };
  const embeds = inputEmbeddings(input, model.inputEmbeddings());
  const [b] = embeds.shape;
  const virtual = prompts.unsqueeze(0).expand([b, n, prompts.shape[1]]);
  const types = input.tokenTypeIds ? zerosInFront(input.tokenTypeIds, n) : undefined;
  return { ...input, inputIds: undefined, inputsEmbeds: concat([virtual, embeds], 1), attentionMask: mask, tokenTypeIds: types };
}

/** int32 [B, T] with n zero columns in front (token type 0 for the virtual tokens, as PEFT). */
function zerosInFront(ids: Tensor, n: number): Tensor {
  const [b, t] = ids.shape,
    data = ids.int32Data();
  const out = new Int32Array(b * (n + t));
  for (let r = 0; r < b; r++) out.set(data.subarray(r * t, (r + 1) * t), r * (n + t) + n);
  return new Tensor(out, [b, n + t]);
}

/** A flat prefix [n, L * 2 * H * D] as per-layer keys and values [B, H, n, D] (PEFT's get_prompt view and permute). */
export function prefixKeysValues(flat: Tensor, batch: number, layers: number, heads: number, headDim: number): KVPrefix {
  const n = flat.shape[0];
  const grouped = flat.reshape([n, 2 * layers, heads, headDim]).permute([1, 2, 0, 3]); // [2L, H, n, D]
  const pick = (i: number) => grouped.narrow(0, i, 1).expand([batch, heads, n, headDim]);
  return { keys: Array.from({ length: layers }, (_, l) => pick(2 * l)), values: Array.from({ length: layers }, (_, l) => pick(2 * l + 1)) };
}

/**
 * The model's input tuner for every prompt-based adapter (PEFT's PeftModel prompt_encoder
 * dict): the active adapter's encoder changes the input; disabled or without one, the input
 * passes unchanged.
 */
export class PromptLearning extends Module implements InputTuner {
  prompt_encoder = new ModuleDict<PromptEncoder>();
  active: string | null = null;
  disabled = false;

  encoder(name: string): PromptEncoder | undefined {
    return this.prompt_encoder.items.get(name);
  }

  private current(): PromptEncoder | undefined {
    return this.disabled || this.active === null ? undefined : this.prompt_encoder.items.get(this.active);
  }

  virtualTokens(): number {
    return this.current()?.numVirtualTokens ?? 0;
  }

  tune(input: ModelInput, model: TokenModel): ModelInput {
    const encoder = this.current();
    return encoder ? encoder.tune(input, model) : input;
  }
}
