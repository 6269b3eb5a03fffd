import { ArgumentError, formatShape, ShapeError } from '../errors.js';
import { concat, copyInto, Tensor } from '../tensor/index.js';

/**
 * Keys and values [B, Hkv, P, D] per layer that sit in front of the input, as HF's
 * past_key_values when prefix tuning passes them: every position attends to them, and the
 * input's positions start at P. Keys are used as given (no rotary embedding is applied).
 */
export interface KVPrefix {
  keys: readonly Tensor[];
  values: readonly Tensor[];
}

/** The shape a model needs of a prefix (its layers, kv heads and head size, for the input's batch). */
export interface KVLayout {
  layers: number;
  batch: number;
  kvHeads: number;
  headDim: number;
}

/** Checks that `prefix` fits the model; returns its length P. */
export function prefixLength(prefix: KVPrefix, layout: KVLayout): number {
  const { layers, batch, kvHeads, headDim } = layout;
  if (prefix.keys.length !== layers || prefix.values.length !== layers) {
    throw new ShapeError(
      `[model] the key/value prefix has ${prefix.keys.length} key and ${prefix.values.length} value tensors; the model has ${layers} layers.`,
      'Pass one key and one value tensor per layer.',
    );
  }
  const p = prefix.keys[0].shape[2];
  for (const t of [...prefix.keys, ...prefix.values]) {
    const want = [batch, kvHeads, p, headDim];
    if (t.ndim !== 4 || t.shape.some((d, i) => d !== want[i])) {
      throw new ShapeError(
        `[model] a key/value prefix tensor is ${formatShape(t.shape)}; the model needs ${formatShape(want)} (batch, kv heads, prefix length, head dim).`,
        'Build the prefix for this model and batch (grouped-query models use their kv heads).',
      );
    }
  }
  return p;
}

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

  constructor(
    readonly layers: number,
    readonly batch: number,
    readonly kvHeads: number,
    readonly headDim: number,
    readonly capacity: number,
  ) {
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

  /** Keys and values [B, Hkv, length, D] stored for `layer` (views, not copies). */
  stored(layer: number): [Tensor, Tensor] {
    return [this.view(this.keys[layer], 0, this.length), this.view(this.values[layer], 0, this.length)];
  }

  /** Commits t new positions once every layer has stored them. */
  advance(t: number): void {
    this.length += t;
  }

  /** Stores a key/value prefix as the first positions of an empty cache (later steps then see it as past). */
  prefill(prefix: KVPrefix): void {
    const p = prefixLength(prefix, this);
    if (this.length !== 0) throw new ArgumentError(`[kv-cache] a key/value prefix goes in front, but the cache already holds ${this.length} positions.`, 'Pass the prefix on the first step only.');
    for (let layer = 0; layer < this.layers; layer++) this.update(layer, prefix.keys[layer], prefix.values[layer]);
    this.advance(p);
  }
}

/**
 * Keys and values a layer attends to: with a cache, the cached ones followed by the new ones
 * (which it stores); otherwise the prefix's (if any, differentiably) followed by the new ones.
 */
export function attendedKeysValues(layer: number, k: Tensor, v: Tensor, cache?: KVCache, prefix?: KVPrefix): [Tensor, Tensor] {
  if (cache) return cache.update(layer, k, v);
  if (prefix) return [concat([prefix.keys[layer], k], 2), concat([prefix.values[layer], v], 2)];
  return [k, v];
}
