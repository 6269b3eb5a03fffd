import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ArgumentError } from '../errors.js';

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
