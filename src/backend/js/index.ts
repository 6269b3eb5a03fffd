import type { Backend } from '../backend.js';
import { attention, attentionBackward } from './attention.js';
import { binary, copy, dropout, unary, unaryBackward, where } from './elementwise.js';
import { embedding, embeddingBackward, rope } from './embedding.js';
import { gemm, gemmBf16 } from './gemm.js';
import { layerNorm, layerNormBackward, rmsNorm, rmsNormBackward } from './norm.js';
import { reduce } from './reduce.js';
import { crossEntropy, crossEntropyBackward, softmax, softmaxBackward } from './softmax.js';

/** The reference backend: plain TypeScript, float64 accumulation, the spec the native one must meet. */
export const jsBackend: Backend = {
  name: 'js',
  threads: 1,
  gemm,
  gemmBf16,
  unary,
  unaryBackward,
  binary,
  where,
  copy,
  reduce,
  softmax,
  softmaxBackward,
  layerNorm,
  layerNormBackward,
  rmsNorm,
  rmsNormBackward,
  crossEntropy,
  crossEntropyBackward,
  embedding,
  embeddingBackward,
  attention,
  attentionBackward,
  rope,
  dropout,
};
