import { type Conv1D, type Linear, Module, ModuleDict } from '../../../nn/index.js';
import { type Generator, inverse, noGrad, Tensor } from '../../../tensor/index.js';
import { setWeightOutIn, TunerLayer, weightOutIn } from '../../tuner-layer.js';
import { blockDiagonal, cayley, dropBlocks, eye, rotateBlocks } from './rotation.js';

/** One adapter's parameters: the strict upper triangles of its skew-symmetric blocks, [blocks (1 when shared), b(b-1)/2]. */
export class OftRotation extends Module {
  weight: Tensor;
  constructor(rows: number, elements: number) {
    super();
    this.weight = Tensor.zeros([rows, elements]);
  }
}

export interface OftSettings {
  blockSize: number;
  /** Blocks per layer: in_features / blockSize. */
  blocks: number;
  blockShare: boolean;
  coft: boolean;
  eps: number;
  cayleyNeumann: boolean;
  neumannTerms: number;
  moduleDropout: number;
}

/** [m, b*b] 0/1 matrix putting the m = b(b-1)/2 parameters at torch.triu_indices(b, b, 1), row by row. */
function upperTriangleScatter(b: number): Tensor {
  const m = (b * (b - 1)) / 2;
  const d = new Float32Array(m * b * b);
  let k = 0;
  for (let i = 0; i < b; i++) for (let j = i + 1; j < b; j++) d[k++ * b * b + i * b + j] = 1;
  return new Tensor(d, [m, b * b]);
}

/**
 * OFT on a Linear or Conv1D (HF PEFT's oft.Linear): the input is cut into blocks of b features
 * and each block is multiplied by an orthogonal b x b matrix R_k before the base layer runs,
 * i.e. the weight becomes W @ blockdiag(R)^T. R_k is the Cayley transform of a skew-symmetric
 * Q_k, exact or (PEFT's default) by a Neumann series, which rotates the opposite way.
 */
export class OftLayer extends TunerLayer<Linear | Conv1D> {
  readonly effect = 'rotates the weight';
  oft_R = new ModuleDict<OftRotation>();
  readonly settings = new Map<string, OftSettings>();
  readonly #scatter = new Map<number, Tensor>();
  #generator: Generator | null = null;

  get inFeatures(): number {
    return this.base_layer.inFeatures;
  }

  adapterNames(): string[] {
    return [...this.oft_R.items.keys()];
  }

  addAdapter(name: string, settings: OftSettings, initWeights: boolean, generator: Generator): void {
    const { blockSize: b, blocks, blockShare } = settings;
    const rotation = new OftRotation(blockShare ? 1 : blocks, (b * (b - 1)) / 2);
    if (!initWeights) {
      const d = rotation.weight.data as Float32Array;
      for (let i = 0; i < d.length; i++) d[i] = 0.1 * generator.normal();
    }
    this.oft_R.items.set(name, rotation);
    this.settings.set(name, settings);
    this.#generator = generator;
  }

  protected removeAdapter(name: string): void {
    this.oft_R.items.delete(name);
    this.settings.delete(name);
  }

  override adapterState(name: string): Map<string, Tensor> {
    return new Map([['oft_R.weight', this.oft_R.items.get(name)!.weight]]);
  }

  /** The adapter's orthogonal blocks [blocks (1 when shared), b, b]. */
  rotation(name: string): Tensor {
    const s = this.settings.get(name)!;
    const weight = this.oft_R.items.get(name)!.weight;
    if (s.coft) this.projectToBall(weight, s.eps);
    const b = s.blockSize;
    if (!this.#scatter.has(b)) this.#scatter.set(b, upperTriangleScatter(b));
    const U = weight.matmul(this.#scatter.get(b)!).reshape([weight.shape[0], b, b]);
    const Q = U.sub(U.transpose(-1, -2));
    let R = s.cayleyNeumann ? neumannCayley(Q, s.neumannTerms) : cayley(Q);
    if (this.training && s.moduleDropout > 0 && R.shape[0] > 1) R = dropBlocks(R, s.moduleDropout, this.#generator!);
    return R;
  }

  /** COFT (PEFT's _project_batch): a block whose skew matrix has Frobenius norm above eps/sqrt(blocks) is scaled back onto that sphere, in place. */
  private projectToBall(weight: Tensor, eps: number): void {
    const [rows, m] = weight.shape;
    const radius = eps / Math.sqrt(rows);
    const d = weight.data as Float32Array;
    for (let r = 0; r < rows; r++) {
      let sq = 0;
      for (let k = 0; k < m; k++) sq += d[weight.offset + r * m + k] ** 2;
      const norm = Math.sqrt(2 * sq); // each parameter appears twice in Q = U - U^T
      if (norm > radius) for (let k = 0; k < m; k++) d[weight.offset + r * m + k] *= radius / norm;
    }
  }

  private rotate(x: Tensor, name: string): Tensor {
    return rotateBlocks(x, this.rotation(name), this.settings.get(name)!.blocks);
  }

  protected override forwardWith(x: Tensor, adapters: readonly string[]): Tensor {
    let rotated = x;
    for (const name of adapters) rotated = this.rotate(rotated, name);
    return this.baseForward(rotated);
  }

  /** blockdiag(R) as a dense [in, in] matrix (a shared block repeated). */
  private denseRotation(name: string, blocks: Tensor): Tensor {
    const s = this.settings.get(name)!;
    return blockDiagonal(blocks, s.blockShare ? s.blocks : 1);
  }

  protected override mergeAdapter(name: string): void {
    const R = this.denseRotation(name, this.rotation(name));
    setWeightOutIn(this.base_layer, weightOutIn(this.base_layer).matmul(R.T));
  }

  protected override unmergeAdapter(name: string): void {
    // The Neumann rotation is only nearly orthogonal: undo it with the true inverse, as PEFT does.
    const inverseT = this.denseRotation(
      name,
      noGrad(() => inverse(this.rotation(name))),
    ).T;
    setWeightOutIn(this.base_layer, weightOutIn(this.base_layer).matmul(inverseT));
  }
}

/**
 * PEFT's Neumann form of the Cayley transform: I + 2Q + 2Q^2 + ... + 2Q^(t-2) + Q^(t-1) for t
 * terms, PEFT's loop exactly (t = 3 and t = 4 give the same series there). It approximates
 * (I + Q)(I - Q)^-1, the transpose of the exact branch's matrix.
 */
function neumannCayley(Q: Tensor, terms: number): Tensor {
  let R: Tensor = eye(Q.shape[1]).expand(Q.shape);
  if (terms <= 1) return R.contiguous();
  R = R.add(Q.mul(2));
  if (terms <= 2) return R;
  let power = Q.matmul(Q);
  R = R.add(power.mul(2));
  for (let i = 3; i < terms - 1; i++) {
    power = power.matmul(Q);
    R = R.add(power.mul(2));
  }
  return R.add(power.matmul(Q));
}
