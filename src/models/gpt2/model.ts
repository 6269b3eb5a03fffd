import { Conv1D, Dropout, Embedding, KVCache, LayerNorm, Linear, Module, additiveMask, attendedKeysValues, type KVLayout, type KVPrefix } from '../../nn/index.js';
import { scaledDotProductAttention, type Tensor } from '../../tensor/index.js';
import type { CausalLM, CausalLMInput } from '../model.js';
import { checkPositions, inputEmbeddings, pastContext, tokenShape } from '../inputs.js';
import { tunedInput, type InputTuner } from '../input-tuner.js';
import { defaultPositions, lastPositions } from '../positions.js';
import type { GPT2Config } from './config.js';
import { DecoderForSequenceClassification } from '../sequence-classification.js';

interface LayerContext {
  mask: Tensor | null;
  cache?: KVCache;
  prefix?: KVPrefix;
  layer: number;
}

class GPT2Attention extends Module {
  c_attn: Conv1D;
  c_proj: Conv1D;
  resid_dropout: Dropout;
  constructor(private readonly cfg: GPT2Config) {
    super();
    this.c_attn = new Conv1D(cfg.hiddenSize, 3 * cfg.hiddenSize);
    this.c_proj = new Conv1D(cfg.hiddenSize, cfg.hiddenSize);
    this.resid_dropout = new Dropout(cfg.residPdrop);
  }

  forward(x: Tensor, ctx: LayerContext): Tensor {
    const [B, T, C] = x.shape;
    const H = this.cfg.nHead,
      D = C / H;
    const qkv = this.c_attn.forward(x).reshape([B, T, 3, H, D]);
    const [q, k0, v0] = [0, 1, 2].map((i) => qkv.narrow(2, i, 1).reshape([B, T, H, D]).transpose(1, 2)); // (B, H, T, D) views
    const [k, v] = attendedKeysValues(ctx.layer, k0, v0, ctx.cache, ctx.prefix);
    const y = scaledDotProductAttention(q, k, v, { causal: true, mask: ctx.mask }).transpose(1, 2).reshape([B, T, C]);
    return this.resid_dropout.forward(this.c_proj.forward(y));
  }
}

class GPT2MLP extends Module {
  c_fc: Conv1D;
  c_proj: Conv1D;
  dropout: Dropout;
  constructor(private readonly cfg: GPT2Config) {
    super();
    this.c_fc = new Conv1D(cfg.hiddenSize, 4 * cfg.hiddenSize);
    this.c_proj = new Conv1D(4 * cfg.hiddenSize, cfg.hiddenSize);
    this.dropout = new Dropout(cfg.residPdrop);
  }
  forward(x: Tensor): Tensor {
    return this.dropout.forward(this.c_proj.forward(this.c_fc.forward(x).gelu(this.cfg.activation)));
  }
}

class GPT2Block extends Module {
  ln_1: LayerNorm;
  attn: GPT2Attention;
  ln_2: LayerNorm;
  mlp: GPT2MLP;
  constructor(cfg: GPT2Config) {
    super();
    this.ln_1 = new LayerNorm(cfg.hiddenSize, cfg.layerNormEpsilon);
    this.attn = new GPT2Attention(cfg);
    this.ln_2 = new LayerNorm(cfg.hiddenSize, cfg.layerNormEpsilon);
    this.mlp = new GPT2MLP(cfg);
  }
  forward(x: Tensor, ctx: LayerContext): Tensor {
    x = x.add(this.attn.forward(this.ln_1.forward(x), ctx));
    return x.add(this.mlp.forward(this.ln_2.forward(x)));
  }
}

export class GPT2Model extends Module {
  wte: Embedding;
  wpe: Embedding;
  drop: Dropout;
  h: GPT2Block[];
  ln_f: LayerNorm;
  constructor(private readonly cfg: GPT2Config) {
    super();
    this.wte = new Embedding(cfg.vocabSize, cfg.hiddenSize);
    this.wpe = new Embedding(cfg.maxPositions, cfg.hiddenSize);
    this.drop = new Dropout(cfg.embdPdrop);
    this.h = Array.from({ length: cfg.numLayers }, () => new GPT2Block(cfg));
    this.ln_f = new LayerNorm(cfg.hiddenSize, cfg.layerNormEpsilon);
  }
  keyValueLayout(): Omit<KVLayout, 'batch'> {
    return { layers: this.cfg.numLayers, kvHeads: this.cfg.nHead, headDim: this.cfg.hiddenSize / this.cfg.nHead };
  }
  forward(input: CausalLMInput): Tensor {
    const { attentionMask, positionIds, cache } = input;
    const [B, T] = tokenShape(input);
    const { past, prefix } = pastContext(input, this.keyValueLayout());
    const positions = positionIds ?? defaultPositions(B, T, past, attentionMask);
    checkPositions(positions, this.cfg.maxPositions);
    let x = this.drop.forward(inputEmbeddings(input, this.wte).add(this.wpe.forward(positions)));
    const mask = attentionMask ? additiveMask(attentionMask) : null;
    this.h.forEach((block, layer) => {
      x = block.forward(x, { mask, cache, prefix, layer });
    });
    cache?.advance(T);
    return this.ln_f.forward(x);
  }
}

/** GPT2LMHeadModel: the transformer and an LM head tied to wte (unless the config unties it). */
export class GPT2LMHeadModel extends Module implements CausalLM {
  readonly task = 'causal-lm' as const;
  transformer: GPT2Model;
  lm_head: Linear;
  /** Installed by PEFT's prompt-based methods. */
  input_tuner?: InputTuner;
  constructor(readonly config: GPT2Config) {
    super();
    this.transformer = new GPT2Model(config);
    this.lm_head = new Linear(config.hiddenSize, config.vocabSize, false);
    if (config.tieWordEmbeddings) this.lm_head.weight = this.transformer.wte.weight;
  }
  forward(input: CausalLMInput): Tensor {
    return this.lm_head.forward(this.hiddenStates(input));
  }
  /** The last hidden states of the real positions (a prompt method's virtual tokens dropped), cut to logitsToKeep. */
  hiddenStates(input: CausalLMInput): Tensor {
    const tuned = tunedInput(this, input);
    return lastPositions(this.transformer.forward(tuned), tuned.logitsToKeep);
  }
  inputEmbeddings(): Embedding {
    return this.transformer.wte;
  }
  keyValueLayout(): Omit<KVLayout, 'batch'> {
    return this.transformer.keyValueLayout();
  }
  newCache(batch: number, capacity: number): KVCache {
    const { layers, kvHeads, headDim } = this.keyValueLayout();
    return new KVCache(layers, batch, kvHeads, headDim, capacity);
  }
}

/** GPT2ForSequenceClassification: `transformer` and a `score` head on the last non-pad token. */
export class GPT2ForSequenceClassification extends DecoderForSequenceClassification {
  transformer: GPT2Model;
  constructor(override readonly config: GPT2Config & { numLabels: number }) {
    super(config);
    this.transformer = new GPT2Model(config);
  }
  protected body(): GPT2Model {
    return this.transformer;
  }
  inputEmbeddings(): Embedding {
    return this.transformer.wte;
  }
}
