import { type Linear, ParameterDict } from '../../../nn/index.js';
import { type Generator, inverse, linear, noGrad, Tensor } from '../../../tensor/index.js';
import { setWeightOutIn, TunerLayer, weightOutIn } from '../../tuner-layer.js';
import { blockDiagonal, cayley, dropBlocks, rotateBlocks } from '../oft/rotation.js';

export interface BoftSettings {
  blocks: number;
  blockSize: number;
  dropout: number;
}

/**
 * BOFT on a Linear as HF PEFT 0.21 runs it on CPU (one butterfly factor): the input's blocks are
 * rotated by R_k = (I - S_k)(I + S_k)^-1 with S_k = (boft_R_k - boft_R_k^T) / 2, the base weight
 * applied, and each output scaled by boft_s before the bias: y = ((x @ R) W^T) * s + bias.
 */
export class BoftLayer extends TunerLayer<Linear> {
  readonly effect = 'rotates the weight';
  boft_R = new ParameterDict();
  boft_s = new ParameterDict();
  readonly settings = new Map<string, BoftSettings>();
  #generator: Generator | null = null;

  get inFeatures(): number {
    return this.base_layer.inFeatures;
  }
  get outFeatures(): number {
    return this.base_layer.outFeatures;
  }

  adapterNames(): string[] {
    return [...this.boft_R.items.keys()];
  }

  addAdapter(name: string, settings: BoftSettings, initWeights: boolean, generator: Generator): void {
    const { blocks, blockSize: b } = settings;
    const R = Tensor.zeros([1, blocks, b, b]),
      s = Tensor.ones([this.outFeatures, 1]);
    if (!initWeights) {
      for (const [t, mean] of [
        [R, 0],
        [s, 1],
      ] as const) {
        const d = t.data as Float32Array;
        for (let i = 0; i < d.length; i++) d[i] = mean + 0.1 * generator.normal();
      }
    }
    this.boft_R.items.set(name, R);
    this.boft_s.items.set(name, s);
    this.settings.set(name, settings);
    this.#generator = generator;
  }

  protected removeAdapter(name: string): void {
    this.boft_R.items.delete(name);
    this.boft_s.items.delete(name);
    this.settings.delete(name);
  }

  override adapterState(name: string): Map<string, Tensor> {
    return new Map([
      ['boft_R', this.boft_R.items.get(name)!],
      ['boft_s', this.boft_s.items.get(name)!],
    ]);
  }

  /** The orthogonal blocks [blocks, b, b] (the one butterfly factor's). */
  rotation(name: string): Tensor {
    const { blocks, blockSize: b, dropout } = this.settings.get(name)!;
    const R = this.boft_R.items.get(name)!.reshape([blocks, b, b]);
    const blocksR = cayley(R.sub(R.transpose(-1, -2)).mul(0.5));
    return this.training && dropout > 0 ? dropBlocks(blocksR, dropout, this.#generator!) : blocksR;
  }

  protected override forwardWith(x: Tensor, adapters: readonly string[]): Tensor {
    // PEFT composes rotation = M_last ... M_first, applied as x @ rotation: the last adapter's blocks act first.
    let rotated = x;
    let scale: Tensor | null = null;
    for (const name of [...adapters].reverse()) {
      rotated = rotateBlocks(rotated, this.rotation(name), this.settings.get(name)!.blocks);
      const s = this.boft_s.items.get(name)!;
      scale = scale ? scale.mul(s) : s;
    }
    const y = linear(rotated, this.base_layer.weight).mul(scale!.reshape([this.outFeatures]));
    return this.base_layer.bias ? y.add(this.base_layer.bias) : y;
  }

  protected override mergeAdapter(name: string): void {
    const R = blockDiagonal(this.rotation(name));
    setWeightOutIn(this.base_layer, weightOutIn(this.base_layer).matmul(R.T).mul(this.boft_s.items.get(name)!));
  }

  protected override unmergeAdapter(name: string): void {
    const inverseT = blockDiagonal(noGrad(() => inverse(this.rotation(name)))).T;
    setWeightOutIn(this.base_layer, weightOutIn(this.base_layer).div(this.boft_s.items.get(name)!).matmul(inverseT));
  }
}
