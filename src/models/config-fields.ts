import { ConfigError } from '../errors.js';

/** Caps on config sizes: far above any released model, far below what would exhaust memory by itself. */
export const MAX_SIZE = { vocab: 1 << 24, hidden: 1 << 16, layers: 1024, heads: 1024, positions: 1 << 24, intermediate: 1 << 20, labels: 1 << 16 } as const;

/** Typed readers for config.json fields that name the field and the file when it is wrong. */
export class ConfigReader {
  constructor(
    private readonly raw: Record<string, unknown>,
    private readonly source: string,
  ) {}

  fail(field: string, expected: string): never {
    throw new ConfigError(`[config] ${this.source}: field '${field}' must be ${expected}, got ${JSON.stringify(this.raw[field])}.`, {
      hint: 'Fix config.json; it should be the one written with the checkpoint.',
    });
  }

  int(field: string, fallback?: number): number {
    const v = this.raw[field] ?? fallback;
    if (v === undefined) throw new ConfigError(`[config] ${this.source}: required field '${field}' is missing.`, { hint: 'config.json must come from the same checkpoint.' });
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail(field, 'a non-negative integer');
    return v;
  }

  /**
   * A size (width, count, vocabulary): a positive integer no larger than `max`. Sizes decide
   * allocations, so absurd values stop here, before the checkpoint is compared with them.
   */
  size(field: string, max: number, fallback?: number): number {
    const v = this.int(field, fallback);
    if (v < 1 || v > max) this.fail(field, `a positive integer of at most ${max}`);
    return v;
  }

  /** A dropout probability in [0, 1). */
  probability(field: string, fallback: number): number {
    const v = this.number(field, fallback);
    if (v < 0 || v >= 1) this.fail(field, 'a probability in [0, 1)');
    return v;
  }

  /** A positive finite number (epsilons, rope theta). */
  positive(field: string, fallback: number): number {
    const v = this.number(field, fallback);
    if (!(v > 0)) this.fail(field, 'a positive number');
    return v;
  }

  /** One of `accepted`, named in the error when it is not. */
  choice<T extends string>(field: string, accepted: readonly T[], fallback: T): T {
    const v = this.string(field, fallback);
    if (!(accepted as readonly string[]).includes(v)) this.fail(field, `one of ${accepted.map((a) => `'${a}'`).join(', ')}`);
    return v as T;
  }

  number(field: string, fallback?: number): number {
    const v = this.raw[field] ?? fallback;
    if (v === undefined) throw new ConfigError(`[config] ${this.source}: required field '${field}' is missing.`, { hint: 'config.json must come from the same checkpoint.' });
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, 'a number');
    return v;
  }

  bool(field: string, fallback: boolean): boolean {
    const v = this.raw[field] ?? fallback;
    if (typeof v !== 'boolean') this.fail(field, 'true or false');
    return v;
  }

  string(field: string, fallback: string): string {
    const v = this.raw[field] ?? fallback;
    if (typeof v !== 'string') this.fail(field, 'a string');
    return v;
  }

  optionalInt(field: string): number | undefined {
    return this.raw[field] === undefined || this.raw[field] === null ? undefined : this.int(field);
  }

  tokenIds(field: string): number | number[] | undefined {
    const v = this.raw[field];
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v) && v.every((x) => Number.isInteger(x))) return v as number[];
    return this.int(field);
  }
}
