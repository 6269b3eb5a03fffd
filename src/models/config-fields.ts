import { ConfigError } from '../errors.js';

/** Typed readers for config.json fields that name the field and the file when it is wrong. */
export class ConfigReader {
  constructor(private readonly raw: Record<string, unknown>, private readonly source: string) {}

  private fail(field: string, expected: string): never {
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
