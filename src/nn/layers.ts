import { dropout, embedding, layerNorm, linear, rmsNorm, Tensor } from '../tensor/index.js';
import { Module } from './module.js';

/** y = x W^T + b, W [out, in] (PyTorch's nn.Linear layout). */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | undefined;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    bias = true,
  ) {
    super();
    this.weight = Tensor.zeros([outFeatures, inFeatures]);
    this.bias = bias ? Tensor.zeros([outFeatures]) : undefined;
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias ?? null);
  }
}

/** GPT-2's Conv1D: y = x W + b with W stored [in, out]; the same GEMM as Linear with a transpose flag. */
export class Conv1D extends Module {
  weight: Tensor;
  bias: Tensor;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
  ) {
    super();
    this.weight = Tensor.zeros([inFeatures, outFeatures]);
    this.bias = Tensor.zeros([outFeatures]);
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight.T, this.bias);
  }
}

export class Embedding extends Module {
  weight: Tensor;
  constructor(
    readonly numEmbeddings: number,
    readonly dim: number,
  ) {
    super();
    this.weight = Tensor.zeros([numEmbeddings, dim]);
  }
  forward(ids: Tensor): Tensor {
    return embedding(this.weight, ids);
  }
}

export class LayerNorm extends Module {
  weight: Tensor;
  bias: Tensor;
  constructor(
    dim: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = Tensor.ones([dim]);
    this.bias = Tensor.zeros([dim]);
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

export class RMSNorm extends Module {
  weight: Tensor;
  constructor(
    dim: number,
    readonly eps = 1e-6,
  ) {
    super();
    this.weight = Tensor.ones([dim]);
  }
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}

/** Dropout that is active only in training mode. */
export class Dropout extends Module {
  constructor(readonly p: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training });
  }
}
