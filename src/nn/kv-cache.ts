import { ArgumentError } from '../errors.js';
import { copyInto, Tensor } from '../tensor/index.js';

/**
 * Keys and values of past positions for incremental decoding, preallocated per layer as
 * [B, Hkv, capacity, D]. Attention reads the filled part as a strided view, so nothing is
 * copied per step except the new positions.
 */
export class KVCache {
  private readonly keys: Float32Array[];
  private readonly values: Float32Array[];
  /** Positions already stored (and committed by advance()). */
  length = 0;

  constructor(readonly layers: number, readonly batch: number, readonly kvHeads: number, readonly headDim: number, readonly capacity: number) {
    const size = batch * kvHeads * capacity * headDim;
    this.keys = Array.from({ length: layers }, () => new Float32Array(size));
    this.values = Array.from({ length: layers }, () => new Float32Array(size));
  }

  private view(buffer: Float32Array, start: number, length: number): Tensor {
    const { kvHeads: h, capacity: c, headDim: d } = this;
    return new Tensor(buffer, [this.batch, h, length, d], { strides: [h * c * d, c * d, d, 1], offset: start * d });
  }

  /** Stores k, v [B, Hkv, T, D] after the committed positions of `layer`; returns keys and values of all positions. */
  update(layer: number, k: Tensor, v: Tensor): [Tensor, Tensor] {
    const t = k.shape[2];
    if (this.length + t > this.capacity) {
      throw new ArgumentError(`[kv-cache] ${this.length + t} positions exceed the cache capacity ${this.capacity}.`, 'Create the cache with a larger capacity (prompt length + max new tokens).');
    }
    copyInto(this.view(this.keys[layer], this.length, t), k);
    copyInto(this.view(this.values[layer], this.length, t), v);
    return [this.view(this.keys[layer], 0, this.length + t), this.view(this.values[layer], 0, this.length + t)];
  }

  /** Commits t new positions once every layer has stored them. */
  advance(t: number): void { this.length += t; }
}
