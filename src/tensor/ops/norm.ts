import { emptyF32 } from '../storage.js';
import { getBackend } from '../../backend/index.js';
import { formatShape, ShapeError } from '../../errors.js';
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { requireFloat } from './elementwise.js';

function checkParam(op: string, x: Tensor, p: Tensor | null, name: string): void {
  const cols = x.shape[x.ndim - 1];
  if (p && (p.ndim !== 1 || p.shape[0] !== cols)) {
    throw new ShapeError(`[${op}] ${name} of shape ${formatShape(p.shape)} does not fit input ${formatShape(x.shape)}.`, `The ${name} must be [${cols}], the size of the last dimension.`);
  }
}

/** LayerNorm over the last dimension (biased variance, as PyTorch). */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  requireFloat('layerNorm', x);
  checkParam('layerNorm', x, weight, 'weight');
  checkParam('layerNorm', x, bias, 'bias');
  const cols = x.shape[x.ndim - 1],
    rows = x.size / cols;
  const xd = x.contiguousData();
  const wd = weight?.contiguousData() ?? null,
    bd = bias?.contiguousData() ?? null;
  const out = emptyF32(xd.length),
    mean = new Float32Array(rows),
    rstd = new Float32Array(rows);
  getBackend().layerNorm(out, mean, rstd, xd, wd, bd, rows, cols, eps);
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(new Tensor(out, x.shape), 'layerNorm', inputs, (g) => {
    const gx = emptyF32(xd.length);
    const gw = weight ? new Float32Array(cols) : null,
      gb = bias ? new Float32Array(cols) : null;
    getBackend().layerNormBackward(gx, gw, gb, xd, wd, mean, rstd, g.contiguousData(), rows, cols);
    return [new Tensor(gx, x.shape), ...(gw ? [new Tensor(gw, [cols])] : []), ...(gb ? [new Tensor(gb, [cols])] : [])];
  });
}

/** RMSNorm over the last dimension: x / sqrt(mean(x^2) + eps) * weight (Llama, Qwen2). */
export function rmsNorm(x: Tensor, weight: Tensor | null, eps = 1e-6): Tensor {
  requireFloat('rmsNorm', x);
  checkParam('rmsNorm', x, weight, 'weight');
  const cols = x.shape[x.ndim - 1],
    rows = x.size / cols;
  const xd = x.contiguousData();
  const wd = weight?.contiguousData() ?? null;
  const out = emptyF32(xd.length),
    rstd = new Float32Array(rows);
  getBackend().rmsNorm(out, rstd, xd, wd, rows, cols, eps);
  return record(new Tensor(out, x.shape), 'rmsNorm', weight ? [x, weight] : [x], (g) => {
    const gx = emptyF32(xd.length);
    const gw = weight ? new Float32Array(cols) : null;
    getBackend().rmsNormBackward(gx, gw, xd, wd, rstd, g.contiguousData(), rows, cols);
    return [new Tensor(gx, x.shape), ...(gw ? [new Tensor(gw, [cols])] : [])];
  });
}
