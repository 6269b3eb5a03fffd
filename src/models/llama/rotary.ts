import { Tensor } from '../../tensor/index.js';
import type { LlamaConfig } from './config.js';

/** Inverse frequencies theta^(-2i/d), with the config's rope scaling applied. */
export function inverseFrequencies(cfg: LlamaConfig): Float64Array {
  const d = cfg.headDim;
  const inv = Float64Array.from({ length: d / 2 }, (_, i) => 1 / cfg.ropeTheta ** ((2 * i) / d));
  const s = cfg.ropeScaling;
  if (s?.type === 'linear') return inv.map((f) => f / s.factor);
  if (s?.type === 'llama3') {
    // Long wavelengths are slowed by `factor`, short ones kept, the band between blended.
    const lowWavelen = s.originalMaxPositions / s.lowFreqFactor,
      highWavelen = s.originalMaxPositions / s.highFreqFactor;
    return inv.map((f) => {
      const wavelen = (2 * Math.PI) / f;
      if (wavelen < highWavelen) return f;
      if (wavelen > lowWavelen) return f / s.factor;
      const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      return (1 - smooth) * (f / s.factor) + smooth * f;
    });
  }
  return inv;
}

/** cos and sin tables [B, T, D] for position ids [B, T], halves repeated as HF's cat(freqs, freqs). */
export function rotaryTables(inv: Float64Array, positions: Tensor): [Tensor, Tensor] {
  const ids = positions.int32Data();
  const half = inv.length,
    d = 2 * half;
  const cos = new Float32Array(ids.length * d),
    sin = new Float32Array(ids.length * d);
  for (let p = 0; p < ids.length; p++) {
    for (let j = 0; j < half; j++) {
      // float32 angle, as HF computes it (position * inv_freq in float32).
      const angle = Math.fround(ids[p] * Math.fround(inv[j]));
      const c = Math.cos(angle),
        s = Math.sin(angle);
      cos[p * d + j] = c;
      cos[p * d + j + half] = c;
      sin[p * d + j] = s;
      sin[p * d + j + half] = s;
    }
  }
  const [b, t] = positions.shape;
  return [new Tensor(cos, [b, t, d]), new Tensor(sin, [b, t, d])];
}
