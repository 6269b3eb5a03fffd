import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ArgumentError } from '../errors.js';

export class UsageError extends ArgumentError {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node's parseArgs, with unknown flags and missing values turned into usage errors that show the usage line. */
export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parse(argv: string[], options: Options, usage: string): ParsedArgs {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as ParsedArgs;
  } catch (cause) {
    throw new UsageError(`[cli] ${(cause as Error).message}`, `Usage: ${usage}`);
  }
}

export function required(value: string | boolean | undefined, flag: string, usage: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`[cli] ${flag} is required.`, `Usage: ${usage}`);
  return value;
}

export function numberFlag(value: string | boolean | undefined, flag: string, fallback: number, check: (n: number) => boolean = Number.isFinite): number {
  if (value === undefined || typeof value === 'boolean') return fallback;
  const n = Number(value);
  if (!check(n)) throw new UsageError(`[cli] ${flag} '${value}' is not a valid value.`, 'Pass a number in range.');
  return n;
}
