import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ArgumentError } from '../errors.js';
import type { LoadDType } from '../models/index.js';

export class UsageError extends ArgumentError {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node's parseArgs, with unknown flags and missing values turned into usage errors that show the usage line. */
export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parse(argv: string[], options: Options, usage: string): ParsedArgs {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as ParsedArgs;
  } catch (cause) {
    throw new UsageError(`[cli] ${(cause as Error).message}`, `Usage: ${usage}`);
  }
}

export function required(value: string | boolean | string[] | undefined, flag: string, usage: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`[cli] ${flag} is required.`, `Usage: ${usage}`);
  return value;
}

export function numberFlag(value: string | boolean | string[] | undefined, flag: string, fallback: number, check: (n: number) => boolean = Number.isFinite): number {
  if (typeof value !== 'string') return fallback;
  const n = Number(value);
  if (!check(n)) throw new UsageError(`[cli] ${flag} '${value}' is not a valid value.`, 'Pass a number in range.');
  return n;
}

/** The values of a repeatable --adapter flag. */
export function adapterFlags(value: string | boolean | string[] | undefined): string[] {
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

const DTYPE_NAMES: Record<string, LoadDType> = { auto: 'auto', float32: 'float32', f32: 'float32', bfloat16: 'bfloat16', bf16: 'bfloat16' };

/** --dtype: storage of the frozen matrix weights (auto keeps a bfloat16 checkpoint in bfloat16). */
export function dtypeFlag(value: string | boolean | string[] | undefined): LoadDType {
  if (value === undefined) return 'auto';
  const dtype = typeof value === 'string' ? DTYPE_NAMES[value] : undefined;
  if (!dtype) throw new UsageError(`[cli] --dtype '${String(value)}' is not a weight dtype.`, `Use one of: ${Object.keys(DTYPE_NAMES).join(', ')}.`);
  return dtype;
}
