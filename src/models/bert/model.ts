import { Dropout, Embedding, LayerNorm, Linear, Module, additiveMask } from '../../nn/index.js';
import { scaledDotProductAttention, Tensor } from '../../tensor/index.js';
import type { EncoderInput, SequenceClassifier } from '../model.js';
import { defaultPositions } from '../positions.js';
import type { BertConfig } from './config.js';

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
  forward(inputIds: Tensor, tokenTypeIds: Tensor): Tensor {
    const T = inputIds.shape[1];
    const x = this.word_embeddings.forward(inputIds)
      .add(this.position_embeddings.forward(defaultPositions(1, T, 0)))
      .add(this.token_type_embeddings.forward(tokenTypeIds));
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
  forward(x: Tensor, mask: Tensor | null): Tensor {
    const [B, T, C] = x.shape;
    const H = this.cfg.numHeads;
    const heads = (t: Tensor) => t.reshape([B, T, H, C / H]).transpose(1, 2); // (B, H, T, D)
    const y = scaledDotProductAttention(heads(this.query.forward(x)), heads(this.key.forward(x)), heads(this.value.forward(x)), { mask });
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
  forward(x: Tensor, mask: Tensor | null): Tensor { return this.output.forward(this.self.forward(x, mask), x); }
}

class BertIntermediate extends Module {
  dense: Linear;
  constructor(cfg: BertConfig) { super(); this.dense = new Linear(cfg.hiddenSize, cfg.intermediateSize); }
  forward(x: Tensor): Tensor { return this.dense.forward(x).gelu(); }
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
  forward(x: Tensor, mask: Tensor | null): Tensor {
    const a = this.attention.forward(x, mask);
    return this.output.forward(this.intermediate.forward(a), a);
  }
}

class BertEncoder extends Module {
  layer: BertLayer[];
  constructor(cfg: BertConfig) { super(); this.layer = Array.from({ length: cfg.numLayers }, () => new BertLayer(cfg)); }
  forward(x: Tensor, mask: Tensor | null): Tensor { return this.layer.reduce((h, l) => l.forward(h, mask), x); }
}

class BertPooler extends Module {
  dense: Linear;
  constructor(cfg: BertConfig) { super(); this.dense = new Linear(cfg.hiddenSize, cfg.hiddenSize); }
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
  /** Returns [sequence output [B, T, C], pooled output [B, C]]. */
  forward({ inputIds, attentionMask, tokenTypeIds }: EncoderInput): [Tensor, Tensor] {
    const types = tokenTypeIds ?? Tensor.zeros(inputIds.shape, 'int32');
    const mask = attentionMask ? additiveMask(attentionMask) : null;
    const h = this.encoder.forward(this.embeddings.forward(inputIds, types), mask);
    return [h, this.pooler.forward(h)];
  }
}

export class BertForSequenceClassification extends Module implements SequenceClassifier {
  readonly task = 'sequence-classification' as const;
  bert: BertModel;
  dropout: Dropout;
  classifier: Linear;
  constructor(readonly config: BertConfig) {
    super();
    this.bert = new BertModel(config);
    this.dropout = new Dropout(config.hiddenDropout);
    this.classifier = new Linear(config.hiddenSize, config.numLabels);
  }
  forward(input: EncoderInput): Tensor {
    const [, pooled] = this.bert.forward(input);
    return this.classifier.forward(this.dropout.forward(pooled));
  }
}
