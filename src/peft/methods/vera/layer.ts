import { type Conv1D, Dropout, type Linear, ModuleDict, ParameterDict } from '../../../nn/index.js';
import { linear, noGrad, type Tensor } from '../../../tensor/index.js';
import { TunerLayer } from '../../tuner-layer.js';

/** The adapter-wide frozen projections, sized for the largest targeted layer: A [r, in_max], B [out_max, r]. */
export interface VeraProjections {
  A: Tensor;
  B: Tensor;
}

/**
 * A Linear or Conv1D with VeRA adapters (HF PEFT's vera.Linear):
 * y = base(x) + lambda_b ⊙ B_s (lambda_d ⊙ A_s dropout(x)), where A_s = vera_A[:, :in] and
 * B_s = vera_B[:out, :] are slices of projections shared by every layer, and only the vectors
 * lambda_b [out] and lambda_d [r] train.
 */
export class VeraLayer extends TunerLayer<Linear | Conv1D> {
  readonly effect = 'adds a weight delta';
  vera_dropout = new ModuleDict<Dropout>();
  vera_lambda_b = new ParameterDict();
  vera_lambda_d = new ParameterDict();
  /** References to the shared projections: not this layer's parameters (saved once as base_model.vera_A/B). */
  readonly #projections = new Map<string, VeraProjections>();

  adapterNames(): string[] {
    return [...this.vera_lambda_d.items.keys()];
  }

  addAdapter(name: string, projections: VeraProjections, dropout: number, lambdaB: Tensor, lambdaD: Tensor): void {
    this.vera_dropout.items.set(name, new Dropout(dropout));
    this.vera_lambda_b.items.set(name, lambdaB);
    this.vera_lambda_d.items.set(name, lambdaD);
    this.#projections.set(name, projections);
  }

  protected removeAdapter(name: string): void {
    for (const dict of [this.vera_dropout, this.vera_lambda_b, this.vera_lambda_d]) dict.items.delete(name);
    this.#projections.delete(name);
  }

  adapterState(name: string): Map<string, Tensor> {
    return new Map([
      ['vera_lambda_b', this.vera_lambda_b.items.get(name)!],
      ['vera_lambda_d', this.vera_lambda_d.items.get(name)!],
    ]);
  }

  /** This layer's slices of the shared projections: A_s [r, in], B_s [out, r]. */
  private slices(name: string): { A: Tensor; B: Tensor } {
    const { A, B } = this.#projections.get(name)!;
    return { A: A.narrow(1, 0, this.base_layer.inFeatures), B: B.narrow(0, 0, this.base_layer.outFeatures) };
  }

  protected override delta(x: Tensor, name: string): Tensor {
    const { A, B } = this.slices(name);
    const xd = this.vera_dropout.items.get(name)!.forward(x);
    return linear(linear(xd, A).mul(this.vera_lambda_d.items.get(name)!), B).mul(this.vera_lambda_b.items.get(name)!);
  }

  /** (lambda_b ⊙ B_s) @ (lambda_d ⊙ A_s), [out, in]. */
  override deltaWeight(name: string): Tensor {
    const { A, B } = this.slices(name);
    const lb = this.vera_lambda_b.items.get(name)!,
      ld = this.vera_lambda_d.items.get(name)!;
    return noGrad(() => B.mul(lb.reshape([lb.size, 1])).matmul(A.mul(ld.reshape([ld.size, 1]))));
  }
}
