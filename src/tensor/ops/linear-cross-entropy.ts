import { emptyF32 } from '../storage.js';
import { getBackend } from '../../backend/index.js';
import { ArgumentError, DTypeError, formatShape, ShapeError } from '../../errors.js';
import { isGradEnabled, record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { requireFloat } from './elementwise.js';
import { matmulInto } from './matmul.js';
import { contiguous, transpose } from './movement.js';
import { countTargets, type CrossEntropyOptions } from './softmax.js';

/** Logits held at once: 8M floats (32 MB), e.g. 166 rows of GPT-2's 50257-word vocabulary (each chunk repacks the weight for the GEMM, so not fewer). */
const CHUNK_ELEMENTS = 1 << 23;

export interface LinearCrossEntropyOptions extends CrossEntropyOptions {
  /** Rows per chunk; default: as many as fit 8M logits. */
  chunkRows?: number;
}

/**
 * crossEntropy(linear(hidden, weight), targets) without ever holding the [rows, vocab] logits
 * or their gradient whole: rows go through in chunks, and each chunk's logits are scored,
 * turned into their gradient in place and multiplied back into d(hidden) (and d(weight) when
 * it trains) at once, during the forward pass; backward only scales by the incoming gradient.
 * hidden [..., C], weight [V, C] in float32 or bfloat16 (frozen), targets int32 [...].
 */
export function linearCrossEntropy(hidden: Tensor, weight: Tensor, targets: Tensor, options: LinearCrossEntropyOptions = {}): Tensor {
  requireFloat('linearCrossEntropy', hidden);
  if (weight.dtype !== 'bfloat16') requireFloat('linearCrossEntropy', weight);
  else if (weight.requiresGrad) throw new DTypeError('[linearCrossEntropy] a bfloat16 weight cannot require grad.', 'Train a float32 copy (tensor.float()), or freeze it.');
  const reduction = options.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum')
    throw new ArgumentError(`[linearCrossEntropy] reduction '${reduction}' is not supported.`, "Use 'mean' or 'sum' (or crossEntropy(linear(...)) for per-row losses).");
  const ignoreIndex = options.ignoreIndex ?? -100;
  const [V, C] = weight.shape;
  if (weight.ndim !== 2 || hidden.shape[hidden.ndim - 1] !== C) {
    throw new ShapeError(
      `[linearCrossEntropy] hidden ${formatShape(hidden.shape)} does not fit weight ${formatShape(weight.shape)} ([vocab, hidden]).`,
      `The hidden states' last dimension must be ${C}.`,
    );
  }
  const rows = hidden.size / Math.max(C, 1);
  if (targets.size !== rows || targets.ndim !== hidden.ndim - 1 || targets.shape.some((d, i) => d !== hidden.shape[i])) {
    throw new ShapeError(
      `[linearCrossEntropy] targets ${formatShape(targets.shape)} do not match hidden ${formatShape(hidden.shape)} without the hidden axis.`,
      'Targets hold one class index per row.',
    );
  }
  const t = targets.int32Data();
  const counted = countTargets('linearCrossEntropy', t, V, ignoreIndex);
  const chunk = Math.max(1, Math.min(rows, options.chunkRows ?? Math.floor(CHUNK_ELEMENTS / Math.max(V, 1))));
  const h = contiguous(hidden);
  const wantHidden = isGradEnabled() && hidden.requiresGrad,
    wantWeight = isGradEnabled() && weight.requiresGrad;
  const gh = wantHidden ? emptyF32(rows * C) : null;
  const gw = wantWeight ? emptyF32(V * C) : null;
  const backend = getBackend();
  const logits = emptyF32(chunk * V);
  const loss = new Float32Array(rows),
    lse = new Float32Array(rows);
  const rowScale = new Float32Array(chunk).fill(reduction === 'mean' ? 1 / Math.max(counted, 1) : 1);
  const weightT = transpose(weight, 0, 1);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const n = Math.min(chunk, rows - r0);
    const hc = new Tensor(h.data, [n, C], { offset: h.offset + r0 * C, strides: [C, 1] });
    const lc = logits.subarray(0, n * V),
      tc = t.subarray(r0, r0 + n);
    matmulInto('linearCrossEntropy', lc, hc, weightT, 0);
    backend.crossEntropy(loss.subarray(r0, r0 + n), lse.subarray(r0, r0 + n), lc, tc, n, V, ignoreIndex);
    if (!gh && !gw) continue;
    backend.crossEntropyBackward(lc, lc, lse.subarray(r0, r0 + n), tc, rowScale, n, V, ignoreIndex); // in place
    const dLogits = new Tensor(lc, [n, V]);
    if (gh) matmulInto('linearCrossEntropy', gh.subarray(r0 * C, (r0 + n) * C), dLogits, weight, 0);
    if (gw) {
      backend.gemm({
        a: lc,
        b: h.data as Float32Array,
        c: gw,
        aOffsets: [0],
        bOffsets: [hc.offset],
        cOffsets: [0],
        m: V,
        n: C,
        k: n,
        transA: true,
        transB: false,
        lda: V,
        ldb: C,
        ldc: C,
        alpha: 1,
        beta: r0 === 0 ? 0 : 1,
      });
    }
  }
  let total = 0;
  for (let i = 0; i < rows; i++) total += loss[i];
  const out = Tensor.scalar(reduction === 'mean' ? (counted ? total / counted : NaN) : total);
  return record(out, 'linearCrossEntropy', [hidden, weight], (g) => {
    const s = g.item();
    const scaled = (data: Float32Array | null, shape: readonly number[]) => {
      if (!data) return null;
      if (s === 1) return new Tensor(data, shape);
      const out = emptyF32(data.length); // a retained graph may run backward again: leave data as it is
      for (let i = 0; i < data.length; i++) out[i] = data[i] * s;
      return new Tensor(out, shape);
    };
    return [scaled(gh, hidden.shape), scaled(gw, weight.shape)];
  });
}
