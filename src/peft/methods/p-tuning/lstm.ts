import { Dropout, Module, uniform_ } from '../../../nn/index.js';
import { concat, linear, Tensor, type Generator } from '../../../tensor/index.js';

/** One direction of one LSTM layer, with PyTorch's parameter layout (gates i, f, g, o stacked). */
interface Direction {
  wIh: Tensor;
  wHh: Tensor;
  bIh: Tensor;
  bHh: Tensor;
}

/**
 * torch.nn.LSTM(bidirectional=True, batch_first=True) on one sequence [T, in] -> [T, 2h]:
 * parameters named as PyTorch (weight_ih_l0, weight_hh_l0_reverse, ...), dropout between
 * layers in training, initialised U(+-1/sqrt(h)) as PyTorch does.
 */
export class BidirectionalLSTM extends Module {
  /** Between layers (a parameter-free child, so train() reaches it). */
  readonly dropout: Dropout;
  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
    readonly numLayers: number,
    dropout: number,
    generator: Generator,
  ) {
    super();
    this.dropout = new Dropout(dropout);
    const bound = 1 / Math.sqrt(hiddenSize);
    const param = (shape: number[]) => uniform_(Tensor.zeros(shape), -bound, bound, generator);
    const self = this as unknown as Record<string, Tensor>;
    for (let l = 0; l < numLayers; l++) {
      for (const suffix of ['', '_reverse']) {
        const inSize = l === 0 ? inputSize : 2 * hiddenSize;
        self[`weight_ih_l${l}${suffix}`] = param([4 * hiddenSize, inSize]);
        self[`weight_hh_l${l}${suffix}`] = param([4 * hiddenSize, hiddenSize]);
        self[`bias_ih_l${l}${suffix}`] = param([4 * hiddenSize]);
        self[`bias_hh_l${l}${suffix}`] = param([4 * hiddenSize]);
      }
    }
  }

  private direction(layer: number, reverse: boolean): Direction {
    const self = this as unknown as Record<string, Tensor>;
    const s = `l${layer}${reverse ? '_reverse' : ''}`;
    return { wIh: self[`weight_ih_${s}`], wHh: self[`weight_hh_${s}`], bIh: self[`bias_ih_${s}`], bHh: self[`bias_hh_${s}`] };
  }

  /** Hidden states [T, h] of one direction over x [T, in]. */
  private run(x: Tensor, p: Direction, reverse: boolean): Tensor {
    const h = this.hiddenSize,
      T = x.shape[0];
    const inputGates = linear(x, p.wIh, p.bIh); // [T, 4h], all steps at once
    let hidden = Tensor.zeros([1, h]),
      cell = Tensor.zeros([1, h]);
    const outputs: Tensor[] = new Array(T);
    for (let step = 0; step < T; step++) {
      const t = reverse ? T - 1 - step : step;
      const gates = inputGates.narrow(0, t, 1).add(linear(hidden, p.wHh, p.bHh));
      const [i, f, g, o] = gates.split(h, 1);
      cell = f.sigmoid().mul(cell).add(i.sigmoid().mul(g.tanh()));
      hidden = o.sigmoid().mul(cell.tanh());
      outputs[t] = hidden;
    }
    return concat(outputs, 0);
  }

  forward(x: Tensor): Tensor {
    let out = x;
    for (let l = 0; l < this.numLayers; l++) {
      if (l > 0) out = this.dropout.forward(out);
      out = concat([this.run(out, this.direction(l, false), false), this.run(out, this.direction(l, true), true)], 1);
    }
    return out;
  }
}
