import { Command, Option } from 'commander';
import { ArgumentError, didYouMean } from '../errors.js';

/** " Did you mean 'x'?" when one of `options` is close to `word`, else ''. */
const suggestion = (word: string, options: Iterable<string>) => {
  const guess = didYouMean(word, options);
  return guess ? ` Did you mean '${guess}'?` : '';
};
import { readSettingsFile } from './config-file.js';
import type { Output } from './output.js';

/** A usage mistake (unknown flag, bad value, missing setting): exit code 2. */
export class UsageError extends ArgumentError {}

/**
 * string: free text; int/number: checked numerals; boolean: a switch (`--no-NAME` when it defaults
 * to true; both `--NAME` and `--no-NAME` when it has no default, so unset, on and off all exist); list: comma-separated on the command line, a list in a config file; repeat: the flag
 * may be given several times; map: `key=number,...` or a mapping of numbers; text: a string on
 * the command line and any value in a config file, checked by the command (PEFT method fields,
 * whose declarations check them).
 */
export type FlagType = 'string' | 'int' | 'number' | 'boolean' | 'list' | 'repeat' | 'map' | 'text';

/** One flag: its type, default, accepted values and one line of meaning. Help, parsing and config files all read this. */
export interface FlagSpec {
  type: FlagType;
  help: string;
  default?: string | number | boolean | readonly string[];
  /** Accepted values (of a string, or of each list entry). */
  choices?: readonly string[];
  /** Smallest accepted number (inclusive). */
  min?: number;
  /** Number must be below this (exclusive). */
  below?: number;
  /** Must be set, on the command line or in the config file. */
  required?: boolean;
  /** The value's name in help, e.g. DIR. */
  metavar?: string;
  /** Other names a config file may use (Hugging Face TrainingArguments names). */
  aliases?: readonly string[];
}

type Base<T extends FlagType> = T extends 'text'
  ? unknown
  : T extends 'string'
    ? string
    : T extends 'int' | 'number'
      ? number
      : T extends 'boolean'
        ? boolean
        : T extends 'map'
          ? Record<string, number>
          : string[];
type Always = { required: true } | { default: unknown } | { type: 'boolean' | 'repeat' };
/** The parsed values, typed from the flag table: optional unless required, defaulted, a switch or repeatable. */
export type FlagValues<F extends Record<string, FlagSpec>> = { [K in keyof F]: F[K] extends Always ? Base<F[K]['type']> : Base<F[K]['type']> | undefined };

export interface RunContext {
  out: Output;
  /** Flags set on the command line or in the config file (not left at their default). */
  given: ReadonlySet<string>;
  /** Raw blocks of the config file the command declared (e.g. `peft:`), keyed by block name. */
  blocks: Record<string, unknown>;
  /** Polled by long runs: true once Ctrl-C was pressed. */
  shouldStop: () => boolean;
}

export interface CommandSpec<F extends Record<string, FlagSpec> = Record<string, FlagSpec>> {
  name: string;
  summary: string;
  flags: F;
  /** Lines shown under "Examples:" in --help. */
  examples?: readonly string[];
  /** A positional argument that fills this flag; `deprecated` adds a note (old `info DIR`). */
  positional?: { flag: keyof F & string; deprecated?: boolean };
  /** Accepts --config FILE (JSON or YAML); these top-level mappings are passed to run() as blocks. */
  config?: {
    blocks: readonly string[];
    /** Names other tools use (HF TrainingArguments) that this command does not take, each with what to do instead. */
    elsewhere?: Readonly<Record<string, string>>;
  };
  run(values: FlagValues<F>, ctx: RunContext): void | Promise<void>;
}

/** Declares a command; `const` keeps the flag table's literal types so values come out typed. */
export function defineCommand<const F extends Record<string, FlagSpec>>(spec: CommandSpec<F>): CommandSpec<F> {
  return spec;
}

const snake = (flag: string) => flag.replace(/-/g, '_');
const kebab = (key: string) => key.replace(/_/g, '-').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function describe(spec: FlagSpec): string {
  const extra = [spec.choices ? `one of: ${spec.choices.join(', ')}` : '', spec.required ? 'required' : '', spec.aliases?.length ? `config file also: ${spec.aliases.join(', ')}` : ''].filter(Boolean);
  return extra.length ? `${spec.help} (${extra.join('; ')})` : spec.help;
}

function checkChoice(name: string, spec: FlagSpec, value: string): string {
  if (spec.choices && !spec.choices.includes(value)) throw new UsageError(`${name} '${value}' is not accepted.${suggestion(value, spec.choices)}`, `Accepted: ${spec.choices.join(', ')}.`);
  return value;
}

function checkNumber(name: string, spec: FlagSpec, raw: unknown): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  const what = spec.type === 'int' ? 'an integer' : 'a number';
  const range = spec.min !== undefined && spec.below !== undefined ? ` in [${spec.min}, ${spec.below})` : spec.min !== undefined ? ` >= ${spec.min}` : '';
  if (!Number.isFinite(n) || (spec.type === 'int' && !Number.isInteger(n)) || (spec.min !== undefined && n < spec.min) || (spec.below !== undefined && n >= spec.below)) {
    throw new UsageError(`${name} must be ${what}${range}, got ${JSON.stringify(raw)}.`, `E.g. ${spec.default ?? spec.min ?? 1}.`);
  }
  return n;
}

/**
 * Checks and converts one value, from the command line (a string) or a config file (YAML/JSON
 * types), against its flag spec. `name` is how the error names it ("--lr", "train.yaml: learning_rate").
 */
export function coerceFlag(name: string, spec: FlagSpec, raw: unknown): unknown {
  switch (spec.type) {
    case 'string':
      if (typeof raw !== 'string' && typeof raw !== 'number')
        throw new UsageError(`${name} must be a single value, got ${JSON.stringify(raw)}.`, spec.choices ? `Accepted: ${spec.choices.join(', ')}.` : 'Write one value.');
      return checkChoice(name, spec, String(raw));
    case 'int':
    case 'number':
      return checkNumber(name, spec, raw);
    case 'boolean':
      if (typeof raw !== 'boolean') throw new UsageError(`${name} must be true or false, got ${JSON.stringify(raw)}.`, 'Write true or false (YAML 1.2 reads yes/no/on/off as text).');
      return raw;
    case 'list':
    case 'repeat': {
      const items =
        typeof raw === 'string'
          ? raw
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : Array.isArray(raw) && raw.every((x) => typeof x === 'string' || typeof x === 'number')
            ? raw.map(String)
            : null;
      if (!items || items.length === 0) throw new UsageError(`${name} must be a list of names, got ${JSON.stringify(raw)}.`, 'Write a,b on the command line or [a, b] in a config file.');
      return items.map((item) => checkChoice(name, spec, item));
    }
    case 'text':
      return raw;
    case 'map': {
      const entries = typeof raw === 'string' ? raw.split(',').map((pair) => pair.split('=').map((s) => s.trim())) : raw && typeof raw === 'object' && !Array.isArray(raw) ? Object.entries(raw) : null;
      if (!entries || entries.some((e) => e.length !== 2 || e[0] === ''))
        throw new UsageError(`${name} must map names to numbers, got ${JSON.stringify(raw)}.`, "Write 'c_attn=4,c_proj=8' on the command line or a mapping in a config file.");
      return Object.fromEntries(entries.map(([k, v]) => [k, checkNumber(`${name} '${k}'`, { ...spec, type: 'number' }, v)]));
    }
  }
}

/** Maps a config file's keys (flag names, snake_case, camelCase or aliases) to flags; checks every value; refuses unknown keys. */
function settingsFromFile(path: string, spec: CommandSpec): { values: Map<string, unknown>; blocks: Record<string, unknown> } {
  const raw = readSettingsFile(path);
  const byName = new Map<string, string>();
  for (const [flag, f] of Object.entries(spec.flags)) {
    if (flag === 'config') continue;
    byName.set(flag, flag);
    for (const alias of f.aliases ?? []) byName.set(kebab(alias), flag);
  }
  const blockNames = spec.config?.blocks ?? [];
  const values = new Map<string, unknown>(),
    blocks: Record<string, unknown> = {},
    from = new Map<string, string>();
  const known = [...new Set([...byName.keys()].map(snake)), ...blockNames];
  // Every unknown key in one message, so a config written for another tool is fixed in one pass.
  const unknown = Object.keys(raw).filter((key) => !blockNames.includes(key) && !byName.has(kebab(key)));
  if (unknown.length) {
    const elsewhere = spec.config?.elsewhere ?? {};
    const what = unknown.map((key) => {
      const instead = elsewhere[snake(kebab(key))],
        guess = didYouMean(key, known);
      return instead ? `'${key}' (${instead})` : guess ? `'${key}' (did you mean '${guess}'?)` : `'${key}'`;
    });
    throw new UsageError(
      `[config] ${path}: unknown setting${unknown.length > 1 ? 's' : ''} ${what.join('; ')}.`,
      `Accepted: ${known.join(', ')} (Hugging Face TrainingArguments names such as learning_rate work too; peft-ts ${spec.name} --help says what each does).`,
    );
  }
  for (const [key, value] of Object.entries(raw)) {
    if (blockNames.includes(key)) {
      blocks[key] = value;
      continue;
    }
    const flag = byName.get(kebab(key))!;
    if (from.has(flag)) throw new UsageError(`[config] ${path}: '${key}' and '${from.get(flag)}' set the same thing.`, 'Keep one of them.');
    from.set(flag, key);
    values.set(flag, coerceFlag(`[config] ${path}: ${key}`, spec.flags[flag], value));
  }
  return { values, blocks };
}

function addOptions(cmd: Command, spec: CommandSpec): void {
  for (const [flag, f] of Object.entries(spec.flags)) {
    const metavar = f.metavar ?? (f.type === 'int' || f.type === 'number' ? 'N' : f.type === 'list' ? 'A,B' : f.type === 'map' ? 'K=N,...' : 'VALUE');
    const option = new Option(f.type === 'boolean' ? (f.default === true ? `--no-${flag}` : `--${flag}`) : `--${flag} <${metavar}>`, describe(f));
    if (f.type !== 'boolean') {
      // A UsageError thrown here leaves commander as it is, so the message reads like every other peft-ts error.
      option.argParser((value: string, previous: unknown) => {
        const parsed = coerceFlag(`[cli] --${flag}`, f, value);
        return f.type === 'repeat' && Array.isArray(previous) && previous !== f.default ? [...previous, ...(parsed as string[])] : parsed;
      });
    }
    if (f.default !== undefined) option.default(f.default);
    cmd.addOption(option);
    // A switch with no default (a method field whose default depends on the method) can be set either way.
    if (f.type === 'boolean' && f.default === undefined) cmd.addOption(new Option(`--no-${flag}`, `turn ${flag} off`).hideHelp());
  }
}

/** Builds the commander program from the command table; run() receives values merged from flags, config file and defaults. */
export function buildProgram(commands: readonly CommandSpec<any>[], version: string, out: Output, shouldStop: () => boolean): Command {
  const program = new Command('peft-ts')
    .description('Parameter-efficient fine-tuning (LoRA and family) with Hugging Face PEFT-compatible adapters.')
    .version(version, '-V, --version', 'print the peft-ts version')
    .helpOption('-h, --help', 'show help for peft-ts or a command')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => out.line(s.replace(/\n$/, '')), writeErr: (s) => out.note(s.replace(/\n$/, '')) });
  for (const spec of commands) {
    // A usage error is one line on stderr, as every other failure: the message, then where the flags are listed.
    const cmd = program
      .command(spec.name)
      .description(spec.summary)
      .configureOutput({
        writeOut: (s) => out.line(s.replace(/\n$/, '')),
        writeErr: (s) => out.note(s.replace(/\n$/, '')),
        outputError: (message, write) =>
          write(
            `peft-ts ${spec.name}: [cli] ${message
              .replace(/^error: /, '')
              .replace(/\s*\n\s*/g, ' ')
              .trim()} (run 'peft-ts ${spec.name} --help' to see every flag)\n`,
          ),
      });
    addOptions(cmd, spec);
    if (spec.positional) cmd.argument(`[${spec.positional.flag}]`, spec.positional.deprecated ? `deprecated: use --${spec.positional.flag}` : `the same as --${spec.positional.flag}`);
    if (spec.examples?.length) cmd.addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  ${e}`).join('\n')}`);
    cmd.action(async () => {
      const opts = cmd.opts();
      const fromFile = typeof opts.config === 'string' ? settingsFromFile(opts.config, spec) : { values: new Map<string, unknown>(), blocks: {} };
      const values: Record<string, unknown> = {};
      const given = new Set<string>();
      for (const option of cmd.options as Option[]) {
        const flag = option.long!.replace(/^--(no-)?/, '');
        const key = option.attributeName();
        const source = cmd.getOptionValueSource(key);
        if (source === 'cli') {
          values[flag] = opts[key];
          given.add(flag);
        } else if (fromFile.values.has(flag)) {
          values[flag] = fromFile.values.get(flag);
          given.add(flag);
        } else values[flag] = opts[key];
      }
      if (spec.positional && cmd.args[0] !== undefined) {
        const flag = spec.positional.flag;
        if (given.has(flag)) throw new UsageError(`[cli] both --${flag} and a positional argument were given.`, `Pass --${flag} only.`);
        if (spec.positional.deprecated) out.note(`note: 'peft-ts ${spec.name} PATH' is deprecated; write 'peft-ts ${spec.name} --${flag} PATH'.`);
        values[flag] = coerceFlag(`[cli] ${flag}`, spec.flags[flag], cmd.args[0]);
        given.add(flag);
      }
      for (const [flag, f] of Object.entries(spec.flags as Record<string, FlagSpec>)) {
        if (f.required && values[flag] === undefined)
          throw new UsageError(`[cli] --${flag} is required.`, `Set it on the command line${spec.config ? ' or in the --config file' : ''}; run 'peft-ts ${spec.name} --help' for every flag.`);
      }
      await spec.run(values as never, { out, given, blocks: fromFile.blocks, shouldStop });
    });
  }
  return program;
}
