import { Conv1D, fill_, kaimingUniform_, normal_, type Linear } from '../../../nn/index.js';
import { type Generator, Tensor } from '../../../tensor/index.js';
import type { LoraInit } from './config.js';
import { weightOutIn } from '../../tuner-layer.js';
import type { LoraLayer } from './layer.js';
import { orthonormalColumns, topSingularTriplets } from './linalg.js';

/** Initialises adapter `name` of a layer as HF PEFT's reset_lora_parameters / pissa_init / olora_init. */
export function initLora(layer: LoraLayer, name: string, init: LoraInit, generator: Generator): void {
  const A = layer.lora_A.items.get(name)!.weight,
    B = layer.lora_B.items.get(name)!.weight;
  const r = A.shape[0];
  if (init === 'gaussian') {
    normal_(A, 1 / r, generator);
    fill_(B, 0);
    return;
  }
  if (init === 'pissa' || init === 'olora') {
    initFromWeight(layer, name, init);
    return;
  }
  kaimingUniform_(A, Math.sqrt(5), generator);
  // false keeps nn.Linear's default init for B: a non-zero adapter, for debugging.
  if (init === false) kaimingUniform_(B, Math.sqrt(5), generator);
  else fill_(B, 0);
}

/**
 * PiSSA puts W's top-r singular directions in the adapter, OLoRA the first r columns of
 * its QR; both then subtract s*B@A from W so that the model's output is unchanged.
 */
function initFromWeight(layer: LoraLayer, name: string, init: 'pissa' | 'olora'): void {
  const base = layer.base_layer as Linear | Conv1D;
  const W = weightOutIn(base).contiguous(); // [out, in]
  const [out, inF] = W.shape;
  const A = layer.lora_A.items.get(name)!.weight,
    B = layer.lora_B.items.get(name)!.weight;
  const r = A.shape[0];
  const s = layer.scaling.get(name)!;
  const w = Float64Array.from(W.contiguousData());
  const a = new Float32Array(r * inF),
    b = new Float32Array(out * r);
  if (init === 'pissa') {
    const { u, sigma, v } = topSingularTriplets(w, out, inF, r);
    for (let k = 0; k < r; k++) {
      const root = Math.sqrt(sigma[k] / s);
      for (let j = 0; j < inF; j++) a[k * inF + j] = root * v[j * r + k];
      for (let i = 0; i < out; i++) b[i * r + k] = root * u[i * r + k];
    }
  } else {
    const { q, rMatrix } = orthonormalColumns(w, out, inF, r);
    a.set(Float32Array.from(rMatrix));
    b.set(Float32Array.from(q));
  }
  A.contiguousData().set(a);
  B.contiguousData().set(b);
  const A0 = new Tensor(a, [r, inF]),
    B0 = new Tensor(b, [out, r]);
  layer.recordTakenFromBase(name, A0, B0);
  const residual = W.sub(B0.matmul(A0).mul(s));
  const stored = base instanceof Conv1D ? residual.T.contiguous() : residual;
  base.weight.contiguousData().set(stored.contiguousData());
}
