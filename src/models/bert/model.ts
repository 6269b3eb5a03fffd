import { Dropout, Embedding, LayerNorm, Linear, Module, additiveMask, attendedKeysValues, type KVLayout, type KVPrefix } from '../../nn/index.js';
import { scaledDotProductAttention, Tensor } from '../../tensor/index.js';
import type { EncoderInput, SequenceClassifier } from '../model.js';
import { checkPositions, inputEmbeddings, pastContext, tokenShape } from '../inputs.js';
import { tunedInput, type InputTuner } from '../input-tuner.js';
import { defaultPositions } from '../positions.js';
import type { BertConfig } from './config.js';

interface LayerContext {
  mask: Tensor | null;
  prefix?: KVPrefix;
  layer: number;
}

class BertEmbeddings extends Module {
  word_embeddings: Embedding;
  position_embeddings: Embedding;
  token_type_embeddings: Embedding;
  LayerNorm: LayerNorm;
  dropout: Dropout;
  constructor(cfg: BertConfig) {
    super();
    this.word_embeddings = new Embedding(cfg.vocabSize, cfg.hiddenSize);
    this.position_embeddings = new Embedding(cfg.maxPositions, cfg.hiddenSize);
    this.token_type_embeddings = new Embedding(cfg.typeVocabSize, cfg.hiddenSize);
    this.LayerNorm = new LayerNorm(cfg.hiddenSize, cfg.layerNormEps);
    this.dropout = new Dropout(cfg.hiddenDropout);
  }
  /** Word + position + token-type embeddings; positions start after `past` prefix positions, as HF's past_key_values_length. */
  forward(input: EncoderInput, tokenTypeIds: Tensor, past: number): Tensor {
    const positions = defaultPositions(1, tokenShape(input)[1], past);
    checkPositions(positions, this.position_embeddings.numEmbeddings);
    const x = inputEmbeddings(input, this.word_embeddings).add(this.position_embeddings.forward(positions)).add(this.token_type_embeddings.forward(tokenTypeIds));
    return this.dropout.forward(this.LayerNorm.forward(x));
  }
}

class BertSelfAttention extends Module {
  query: Linear;
  key: Linear;
  value: Linear;
  constructor(private readonly cfg: BertConfig) {
    super();
    this.query = new Linear(cfg.hiddenSize, cfg.hiddenSize);
    this.key = new Linear(cfg.hiddenSize, cfg.hiddenSize);
    this.value = new Linear(cfg.hiddenSize, cfg.hiddenSize);
  }
  forward(x: Tensor, ctx: LayerContext): Tensor {
    const [B, T, C] = x.shape;
    const H = this.cfg.numHeads;
    const heads = (t: Tensor) => t.reshape([B, T, H, C / H]).transpose(1, 2); // (B, H, T, D)
    const [k, v] = attendedKeysValues(ctx.layer, heads(this.key.forward(x)), heads(this.value.forward(x)), undefined, ctx.prefix);
    const y = scaledDotProductAttention(heads(this.query.forward(x)), k, v, { mask: ctx.mask });
    return y.transpose(1, 2).reshape([B, T, C]);
  }
}

/** dense -> dropout -> LayerNorm(. + residual): BERT's post-norm sublayer output. */
class BertResidualOutput extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  dropout: Dropout;
  constructor(inFeatures: number, cfg: BertConfig) {
    super();
    this.dense = new Linear(inFeatures, cfg.hiddenSize);
    this.LayerNorm = new LayerNorm(cfg.hiddenSize, cfg.layerNormEps);
    this.dropout = new Dropout(cfg.hiddenDropout);
  }
  forward(h: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(this.dropout.forward(this.dense.forward(h)).add(residual));
  }
}

class BertAttention extends Module {
  self: BertSelfAttention;
  output: BertResidualOutput;
  constructor(cfg: BertConfig) {
    super();
    this.self = new BertSelfAttention(cfg);
    this.output = new BertResidualOutput(cfg.hiddenSize, cfg);
  }
  forward(x: Tensor, ctx: LayerContext): Tensor {
    return this.output.forward(this.self.forward(x, ctx), x);
  }
}

class BertIntermediate extends Module {
  dense: Linear;
  constructor(cfg: BertConfig) {
    super();
    this.dense = new Linear(cfg.hiddenSize, cfg.intermediateSize);
  }
  forward(x: Tensor): Tensor {
    return this.dense.forward(x).gelu();
  }
}

class BertLayer extends Module {
  attention: BertAttention;
  intermediate: BertIntermediate;
  output: BertResidualOutput;
  constructor(cfg: BertConfig) {
    super();
    this.attention = new BertAttention(cfg);
    this.intermediate = new BertIntermediate(cfg);
    this.output = new BertResidualOutput(cfg.intermediateSize, cfg);
  }
  forward(x: Tensor, ctx: LayerContext): Tensor {
    const a = this.attention.forward(x, ctx);
    return this.output.forward(this.intermediate.forward(a), a);
  }
}

class BertEncoder extends Module {
  layer: BertLayer[];
  constructor(cfg: BertConfig) {
    super();
    this.layer = Array.from({ length: cfg.numLayers }, () => new BertLayer(cfg));
  }
  forward(x: Tensor, mask: Tensor | null, prefix?: KVPrefix): Tensor {
    return this.layer.reduce((h, l, layer) => l.forward(h, { mask, prefix, layer }), x);
  }
}

class BertPooler extends Module {
  dense: Linear;
  constructor(cfg: BertConfig) {
    super();
    this.dense = new Linear(cfg.hiddenSize, cfg.hiddenSize);
  }
  /** tanh(dense(h[:, 0])): the [CLS] position. */
  forward(h: Tensor): Tensor {
    const [B, , C] = h.shape;
    return this.dense.forward(h.narrow(1, 0, 1).reshape([B, C])).tanh();
  }
}

export class BertModel extends Module {
  embeddings: BertEmbeddings;
  encoder: BertEncoder;
  pooler: BertPooler;
  constructor(readonly config: BertConfig) {
    super();
    this.embeddings = new BertEmbeddings(config);
    this.encoder = new BertEncoder(config);
    this.pooler = new BertPooler(config);
  }
  keyValueLayout(): Omit<KVLayout, 'batch'> {
    return { layers: this.config.numLayers, kvHeads: this.config.numHeads, headDim: this.config.hiddenSize / this.config.numHeads };
  }
  /** Returns [sequence output [B, T, C], pooled output [B, C]]. */
  forward(input: EncoderInput): [Tensor, Tensor] {
    const { attentionMask, tokenTypeIds } = input;
    const { past, prefix } = pastContext(input, this.keyValueLayout());
    const types = tokenTypeIds ?? Tensor.zeros(tokenShape(input), 'int32');
    const mask = attentionMask ? additiveMask(attentionMask) : null;
    const h = this.encoder.forward(this.embeddings.forward(input, types, past), mask, prefix);
    return [h, this.pooler.forward(h)];
  }
}

export class BertForSequenceClassification extends Module implements SequenceClassifier {
  readonly task = 'sequence-classification' as const;
  bert: BertModel;
  dropout: Dropout;
  classifier: Linear;
  /** Installed by PEFT's prompt-based methods. */
  input_tuner?: InputTuner;
  constructor(readonly config: BertConfig) {
    super();
    this.bert = new BertModel(config);
    this.dropout = new Dropout(config.hiddenDropout);
    this.classifier = new Linear(config.hiddenSize, config.numLabels);
  }
  inputEmbeddings(): Embedding {
    return this.bert.embeddings.word_embeddings;
  }
  keyValueLayout(): Omit<KVLayout, 'batch'> {
    return this.bert.keyValueLayout();
  }
  forward(input: EncoderInput): Tensor {
    const [, pooled] = this.bert.forward(tunedInput(this, input));
    return this.classifier.forward(this.dropout.forward(pooled));
  }
}
