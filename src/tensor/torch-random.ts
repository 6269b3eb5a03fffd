import { ArgumentError } from '../errors.js';

/**
 * PyTorch's CPU random generator, bit for bit: `torch.Generator().manual_seed(seed)` is an
 * MT19937 engine seeded as mt19937's init_genrand with the low 32 bits of the seed. HF PEFT
 * rebuilds tensors it does not save from such generators (FourierFT's frequency indices,
 * VeRA's projections with save_projection=false), so reproducing them needs the same stream.
 */
export class TorchGenerator {
  private readonly state = new Uint32Array(624);
  private next = 0;
  private left = 1;

  constructor(seed: number | bigint) {
    const s = this.state;
    s[0] = Number(BigInt(seed) & 0xffffffffn);
    for (let j = 1; j < 624; j++) {
      const prev = s[j - 1] ^ (s[j - 1] >>> 30);
      s[j] = (Math.imul(1812433253, prev) + j) >>> 0;
    }
  }

  private twist(): void {
    const s = this.state;
    const mix = (u: number, v: number) => (((u & 0x80000000) | (v & 0x7fffffff)) >>> 1) ^ (v & 1 ? 0x9908b0df : 0);
    for (let k = 0; k < 624; k++) s[k] = s[(k + 397) % 624] ^ mix(s[k], s[(k + 1) % 624]);
    this.left = 624;
    this.next = 0;
  }

  /** The next 32-bit output (at::mt19937::operator(), CPUGeneratorImpl::random()). */
  random(): number {
    if (--this.left === 0) this.twist();
    let y = this.state[this.next++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * One float32 draw of `tensor.uniform_(from, to, generator=g)` on CPU: 24 random bits scaled
   * to [0, 1), then x * (to - from) + from with float32 bounds and one final rounding (PyTorch's
   * kernel is contracted to a fused multiply-add; rounding the product separately differs in
   * the last bits about half the time, as VeRA's saved projections show).
   */
  uniformFloat32(from: number, to: number): number {
    const f = Math.fround;
    const x = (this.random() & 0xffffff) / 2 ** 24;
    // x has 24 bits and (to - from) 24 bits, so the product is exact in double.
    return f(x * f(f(to) - f(from)) + f(from));
  }
}

/**
 * `torch.randperm(n, generator=g)` on CPU (int64), for n below 2^32 / 20: the identity shuffled
 * by i -> swap(i, i + random() % (n - i)), PyTorch's randperm_cpu for small n.
 */
export function torchRandperm(n: number, generator: TorchGenerator): Int32Array {
  if (!(Number.isInteger(n) && n >= 0 && n < 0xffffffff / 20))
    throw new ArgumentError(`[randperm] n=${n} is outside [0, 2^32 / 20), the range PyTorch shuffles this way.`, 'Ask for a smaller permutation.');
  const out = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < n - 1; i++) {
    const z = i + (generator.random() % (n - i));
    const saved = out[i];
    out[i] = out[z];
    out[z] = saved;
  }
  return out;
}
