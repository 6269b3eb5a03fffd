import type { AttentionArgs, F32 } from '../backend.js';

/** Scores for one (batch, head): s[t, j] = scale * q_t . k_j + mask, -Infinity where causality forbids. */
function scores(a: AttentionArgs, b: number, h: number, s: Float64Array): void {
  const { q, k, mask, tq, tk, headDim: d, scale } = a;
  const kh = Math.floor(h / (a.heads / a.kvHeads));
  const shift = tk - tq;
  for (let t = 0; t < tq; t++) {
    const qo = q.offset + b * q.strides[0] + h * q.strides[1] + t * q.strides[2];
    for (let j = 0; j < tk; j++) {
      if (a.causal && j > t + shift) {
        s[t * tk + j] = -Infinity;
        continue;
      }
      const ko = k.offset + b * k.strides[0] + kh * k.strides[1] + j * k.strides[2];
      let dot = 0;
      for (let e = 0; e < d; e++) dot += q.data[qo + e] * k.data[ko + e];
      let v = dot * scale;
      if (mask) v += mask.data[mask.offset + b * mask.strides[0] + h * mask.strides[1] + t * mask.strides[2] + j * mask.strides[3]];
      s[t * tk + j] = v;
    }
  }
}

/** Turns scores into probabilities in place, row by row, and writes each row's logsumexp. */
function softmaxRows(s: Float64Array, rows: number, cols: number, lse: F32, lseBase: number): void {
  for (let t = 0; t < rows; t++) {
    let max = -Infinity;
    for (let j = 0; j < cols; j++) max = Math.max(max, s[t * cols + j]);
    if (max === -Infinity) {
      s.fill(0, t * cols, (t + 1) * cols);
      lse[lseBase + t] = -Infinity;
      continue;
    } // attends to nothing
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(s[t * cols + j] - max);
    const l = max + Math.log(sum);
    lse[lseBase + t] = l;
    for (let j = 0; j < cols; j++) s[t * cols + j] = Math.exp(s[t * cols + j] - l);
  }
}

export function attention(out: F32, lse: F32, a: AttentionArgs): void {
  const { v, batch, heads, tq, tk, headDim: d } = a;
  const p = new Float64Array(tq * tk);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const kh = Math.floor(h / (heads / a.kvHeads));
      scores(a, b, h, p);
      softmaxRows(p, tq, tk, lse, (b * heads + h) * tq);
      for (let t = 0; t < tq; t++) {
        const oo = ((b * tq + t) * heads + h) * d;
        for (let e = 0; e < d; e++) {
          let acc = 0;
          for (let j = 0; j < tk; j++) acc += p[t * tk + j] * v.data[v.offset + b * v.strides[0] + kh * v.strides[1] + j * v.strides[2] + e];
          out[oo + e] = acc;
        }
      }
    }
  }
}

export function attentionBackward(gq: F32, gk: F32, gv: F32, gout: F32, out: F32, lse: F32, a: AttentionArgs): void {
  const { q, k, v, batch, heads, kvHeads, tq, tk, headDim: d, scale } = a;
  gk.fill(0);
  gv.fill(0);
  const p = new Float64Array(tq * tk);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const kh = Math.floor(h / (heads / kvHeads));
      scores(a, b, h, p);
      const lseBase = (b * heads + h) * tq;
      for (let i = 0; i < tq * tk; i++) {
        const l = lse[lseBase + Math.floor(i / tk)];
        p[i] = l === -Infinity ? 0 : Math.exp(p[i] - l);
      }
      const vo = (j: number) => v.offset + b * v.strides[0] + kh * v.strides[1] + j * v.strides[2];
      const ko = (j: number) => k.offset + b * k.strides[0] + kh * k.strides[1] + j * k.strides[2];
      const qo = (t: number) => q.offset + b * q.strides[0] + h * q.strides[1] + t * q.strides[2];
      const go = (t: number) => ((b * tq + t) * heads + h) * d;
      const kvGrad = (j: number) => ((b * kvHeads + kh) * tk + j) * d;
      for (let t = 0; t < tq; t++) {
        let rowDot = 0; // sum_e dO[t,e] * O[t,e]
        for (let e = 0; e < d; e++) rowDot += gout[go(t) + e] * out[go(t) + e];
        const gqo = ((b * heads + h) * tq + t) * d;
        for (let e = 0; e < d; e++) gq[gqo + e] = 0;
        for (let j = 0; j < tk; j++) {
          const pj = p[t * tk + j];
          if (pj === 0) continue;
          let dp = 0;
          for (let e = 0; e < d; e++) {
            dp += gout[go(t) + e] * v.data[vo(j) + e];
            gv[kvGrad(j) + e] += pj * gout[go(t) + e];
          }
          const ds = pj * (dp - rowDot) * scale;
          for (let e = 0; e < d; e++) {
            gq[gqo + e] += ds * k.data[ko(j) + e];
            gk[kvGrad(j) + e] += ds * q.data[qo(t) + e];
          }
        }
      }
    }
  }
}
