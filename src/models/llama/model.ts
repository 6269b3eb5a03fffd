import { Embedding, KVCache, Linear, Module, RMSNorm, additiveMask, attendedKeysValues, type KVLayout, type KVPrefix } from '../../nn/index.js';
import { rope, scaledDotProductAttention, type Tensor } from '../../tensor/index.js';
import type { CausalLM, CausalLMInput } from '../model.js';
import { inputEmbeddings, pastContext, tokenShape } from '../inputs.js';
import { tunedInput, type InputTuner } from '../input-tuner.js';
import { defaultPositions, lastPositions } from '../positions.js';
import type { LlamaConfig } from './config.js';
import { DecoderForSequenceClassification } from '../sequence-classification.js';
import { inverseFrequencies, rotaryTables } from './rotary.js';

interface LayerContext {
  mask: Tensor | null;
  cos: Tensor;
  sin: Tensor;
  cache?: KVCache;
  prefix?: KVPrefix;
  layer: number;
}

class LlamaAttention extends Module {
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  o_proj: Linear;
  constructor(private readonly cfg: LlamaConfig) {
    super();
    const { hiddenSize: d, numHeads: h, numKVHeads: kv, headDim: hd } = cfg;
    this.q_proj = new Linear(d, h * hd, cfg.qkvBias);
    this.k_proj = new Linear(d, kv * hd, cfg.qkvBias);
    this.v_proj = new Linear(d, kv * hd, cfg.qkvBias);
    this.o_proj = new Linear(h * hd, d, cfg.oBias);
  }

  forward(x: Tensor, ctx: LayerContext): Tensor {
    const [B, T] = x.shape;
    const { numHeads: H, numKVHeads: KV, headDim: D } = this.cfg;
    const q = rope(this.q_proj.forward(x).reshape([B, T, H, D]).transpose(1, 2), ctx.cos, ctx.sin); // (B, H, T, D)
    const k0 = rope(this.k_proj.forward(x).reshape([B, T, KV, D]).transpose(1, 2), ctx.cos, ctx.sin); // (B, KV, T, D)
    const v0 = this.v_proj.forward(x).reshape([B, T, KV, D]).transpose(1, 2);
    const [k, v] = attendedKeysValues(ctx.layer, k0, v0, ctx.cache, ctx.prefix);
    const y = scaledDotProductAttention(q, k, v, { causal: true, mask: ctx.mask })
      .transpose(1, 2)
      .reshape([B, T, H * D]);
    return this.o_proj.forward(y);
  }
}

class LlamaMLP extends Module {
  gate_proj: Linear;
  up_proj: Linear;
  down_proj: Linear;
  constructor(cfg: LlamaConfig) {
    super();
    this.gate_proj = new Linear(cfg.hiddenSize, cfg.intermediateSize, cfg.mlpBias);
    this.up_proj = new Linear(cfg.hiddenSize, cfg.intermediateSize, cfg.mlpBias);
    this.down_proj = new Linear(cfg.intermediateSize, cfg.hiddenSize, cfg.mlpBias);
  }
  forward(x: Tensor): Tensor {
    return this.down_proj.forward(this.gate_proj.forward(x).silu().mul(this.up_proj.forward(x)));
  }
}

class LlamaDecoderLayer extends Module {
  self_attn: LlamaAttention;
  mlp: LlamaMLP;
  input_layernorm: RMSNorm;
  post_attention_layernorm: RMSNorm;
  constructor(cfg: LlamaConfig) {
    super();
    this.self_attn = new LlamaAttention(cfg);
    this.mlp = new LlamaMLP(cfg);
    this.input_layernorm = new RMSNorm(cfg.hiddenSize, cfg.rmsNormEps);
    this.post_attention_layernorm = new RMSNorm(cfg.hiddenSize, cfg.rmsNormEps);
  }
  forward(x: Tensor, ctx: LayerContext): Tensor {
    x = x.add(this.self_attn.forward(this.input_layernorm.forward(x), ctx));
    return x.add(this.mlp.forward(this.post_attention_layernorm.forward(x)));
  }
}

export class LlamaModel extends Module {
  embed_tokens: Embedding;
  layers: LlamaDecoderLayer[];
  norm: RMSNorm;
  readonly #invFreq: Float64Array;
  constructor(private readonly cfg: LlamaConfig) {
    super();
    this.embed_tokens = new Embedding(cfg.vocabSize, cfg.hiddenSize);
    this.layers = Array.from({ length: cfg.numLayers }, () => new LlamaDecoderLayer(cfg));
    this.norm = new RMSNorm(cfg.hiddenSize, cfg.rmsNormEps);
    this.#invFreq = inverseFrequencies(cfg);
  }
  keyValueLayout(): Omit<KVLayout, 'batch'> {
    return { layers: this.cfg.numLayers, kvHeads: this.cfg.numKVHeads, headDim: this.cfg.headDim };
  }
  forward(input: CausalLMInput): Tensor {
    const { attentionMask, positionIds, cache } = input;
    const [B, T] = tokenShape(input);
    const { past, prefix } = pastContext(input, this.keyValueLayout());
    const positions = positionIds ?? defaultPositions(B, T, past, attentionMask);
    const [cos, sin] = rotaryTables(this.#invFreq, positions);
    const mask = attentionMask ? additiveMask(attentionMask) : null;
    let x = inputEmbeddings(input, this.embed_tokens);
    this.layers.forEach((layer, i) => {
      x = layer.forward(x, { mask, cos, sin, cache, prefix, layer: i });
    });
    cache?.advance(T);
    return this.norm.forward(x);
  }
}

/** LlamaForCausalLM, also Qwen2ForCausalLM and MistralForCausalLM (they differ only in config). */
export class LlamaForCausalLM extends Module implements CausalLM {
  readonly task = 'causal-lm' as const;
  model: LlamaModel;
  lm_head: Linear;
  /** Installed by PEFT's prompt-based methods. */
  input_tuner?: InputTuner;
  constructor(readonly config: LlamaConfig) {
    super();
    this.model = new LlamaModel(config);
    this.lm_head = new Linear(config.hiddenSize, config.vocabSize, false);
    if (config.tieWordEmbeddings) this.lm_head.weight = this.model.embed_tokens.weight;
  }
  forward(input: CausalLMInput): Tensor {
    return this.lm_head.forward(this.hiddenStates(input));
  }
  /** The last hidden states of the real positions (a prompt method's virtual tokens dropped), cut to logitsToKeep. */
  hiddenStates(input: CausalLMInput): Tensor {
    const tuned = tunedInput(this, input);
    return lastPositions(this.model.forward(tuned), tuned.logitsToKeep);
  }
  inputEmbeddings(): Embedding {
    return this.model.embed_tokens;
  }
  keyValueLayout(): Omit<KVLayout, 'batch'> {
    return this.model.keyValueLayout();
  }
  newCache(batch: number, capacity: number): KVCache {
    const { layers, kvHeads, headDim } = this.keyValueLayout();
    return new KVCache(layers, batch, kvHeads, headDim, capacity);
  }
}

/** LlamaForSequenceClassification, also Qwen2's and Mistral's: `model` and a `score` head on the last non-pad token. */
export class LlamaForSequenceClassification extends DecoderForSequenceClassification {
  model: LlamaModel;
  constructor(override readonly config: LlamaConfig & { numLabels: number }) {
    super(config);
    this.model = new LlamaModel(config);
  }
  protected body(): LlamaModel {
    return this.model;
  }
  inputEmbeddings(): Embedding {
    return this.model.embed_tokens;
  }
}
