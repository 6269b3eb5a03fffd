import { ConfigError, didYouMean } from '../errors.js';

export { didYouMean };
import type { TargetSpec } from './targets.js';

/**
 * Method configs are declared, not hand-parsed: each method lists its adapter_config.json fields
 * with a type, PEFT's default, validation and one line of meaning. Parsing, saving, the CLI's
 * flags and `peft-ts methods` all read the same declaration.
 */
export interface Field<T> {
  /** What the field accepts, for messages and help ("a positive integer", '"none", "all"'). */
  accepts: string;
  default: T;
  doc: string;
  /** The CLI can set scalars and lists from flags; records and free JSON only from a config file. */
  cli: 'number' | 'boolean' | 'string' | 'list' | 'json';
  check(value: unknown): value is T;
  /** Optional normalisation after the check (e.g. a single layer index into a list). */
  normalise?(value: T): T;
}

export type Schema = Record<string, Field<any>>;
export type Infer<S extends Schema> = { -readonly [K in keyof S]: S[K] extends Field<infer T> ? T : never };

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isNumberRecord = (v: unknown): v is Record<string, number> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'number' && Number.isFinite(x));

/** Field constructors, in the spirit of Zod: `f.int({ default: 8, min: 1, doc })`. */
export const f = {
  int(o: { default: number; min?: number; max?: number; doc: string }): Field<number> {
    const range = o.max === undefined ? (o.min === undefined ? 'an integer' : `an integer >= ${o.min}`) : `an integer in [${o.min ?? '-inf'}, ${o.max}]`;
    return {
      accepts: range,
      default: o.default,
      doc: o.doc,
      cli: 'number',
      check: (v): v is number => Number.isInteger(v) && (o.min === undefined || (v as number) >= o.min) && (o.max === undefined || (v as number) <= o.max),
    };
  },
  number(o: { default: number; min?: number; max?: number; maxExclusive?: boolean; doc: string }): Field<number> {
    const upper = o.max === undefined ? '' : o.maxExclusive ? `, < ${o.max}` : `, <= ${o.max}`;
    const accepts = o.min === undefined && o.max === undefined ? 'a finite number' : `a number${o.min === undefined ? '' : ` >= ${o.min}`}${upper}`;
    return {
      accepts,
      default: o.default,
      doc: o.doc,
      cli: 'number',
      check: (v): v is number => typeof v === 'number' && Number.isFinite(v) && (o.min === undefined || v >= o.min) && (o.max === undefined || (o.maxExclusive ? v < o.max : v <= o.max)),
    };
  },
  bool(o: { default: boolean; doc: string }): Field<boolean> {
    return { accepts: 'true or false', default: o.default, doc: o.doc, cli: 'boolean', check: (v): v is boolean => typeof v === 'boolean' };
  },
  oneOf<const T extends readonly (string | number | boolean | null)[]>(values: T, o: { default: T[number]; doc: string }): Field<T[number]> {
    return {
      accepts: values.map((v) => JSON.stringify(v)).join(', '),
      default: o.default,
      doc: o.doc,
      cli: values.every((v) => typeof v === 'string' || v === null) ? 'string' : 'json',
      check: (v): v is T[number] => values.includes(v as T[number]),
    };
  },
  string(o: { default: string | null; doc: string; nullable?: boolean }): Field<string | null> {
    return {
      accepts: o.nullable === false ? 'a string' : 'a string or null',
      default: o.default,
      doc: o.doc,
      cli: 'string',
      check: (v): v is string | null => typeof v === 'string' || (v === null && o.nullable !== false),
    };
  },
  stringList(o: { default: string[] | null; doc: string }): Field<string[] | null> {
    return { accepts: 'a list of strings or null', default: o.default, doc: o.doc, cli: 'list', check: (v): v is string[] | null => v === null || isStringList(v) };
  },
  intList(o: { default: number[] | null; doc: string }): Field<number[] | null> {
    return {
      accepts: 'a list of integers or null',
      default: o.default,
      doc: o.doc,
      cli: 'list',
      check: (v): v is number[] | null => v === null || (Array.isArray(v) && v.every((x) => Number.isInteger(x))),
    };
  },
  /** PEFT's target spec: a list of names (matched as dotted suffixes), a regex string, or null for the method's default. */
  targets(o: { default: TargetSpec; doc: string }): Field<TargetSpec> {
    return {
      accepts: 'a list of module names, a regex string, or null',
      default: o.default,
      doc: o.doc,
      cli: 'list',
      check: (v): v is TargetSpec => v === null || typeof v === 'string' || isStringList(v),
    };
  },
  numberRecord(o: { doc: string }): Field<Record<string, number>> {
    return { accepts: 'an object of pattern -> number', default: {}, doc: o.doc, cli: 'json', check: (v): v is Record<string, number> => isNumberRecord(v) };
  },
  /** A value peft-ts reads only at PEFT's default: any other asks for a feature not implemented here. */
  fixed<T>(value: T, o: { doc: string }): Field<T> {
    return {
      accepts: `${JSON.stringify(value)} (the only value peft-ts implements)`,
      default: value,
      doc: o.doc,
      cli: typeof value === 'boolean' ? 'boolean' : 'json',
      check: (v): v is T => JSON.stringify(v) === JSON.stringify(value),
    };
  },
  /** Free JSON that peft-ts reads and writes back unchanged (metadata such as auto_mapping). */
  any(o: { default: unknown; doc: string }): Field<unknown> {
    return { accepts: 'any JSON value', default: o.default, doc: o.doc, cli: 'json', check: (_v): _v is unknown => true };
  },
};

export const TASK_TYPES = ['CAUSAL_LM', 'SEQ_CLS', 'SEQ_2_SEQ_LM', 'TOKEN_CLS', 'QUESTION_ANS', 'FEATURE_EXTRACTION'] as const;

/** The PEFT release whose on-disk format peft-ts follows; written as `peft_version`. */
export const PEFT_FORMAT_VERSION = '0.21.0';

/** Fields every PEFT config has (PeftConfigMixin), parsed once for all methods. */
export const baseFields = {
  task_type: f.oneOf([...TASK_TYPES, null], { default: null, doc: 'the model head the adapter is for; SEQ_CLS also trains the classifier head' }),
  base_model_name_or_path: f.string({ default: null, doc: 'the base model the adapter was trained on' }),
  revision: f.string({ default: null, doc: 'the base model revision' }),
  inference_mode: f.bool({ default: false, doc: 'true when saved: the adapter is loaded frozen' }),
  peft_version: f.string({ default: PEFT_FORMAT_VERSION, doc: 'the PEFT version whose format the file follows' }),
  auto_mapping: f.any({ default: null, doc: 'PEFT metadata for custom models, kept as is' }),
};

/** Fields of every tuner that wraps or replaces modules by name (BaseTuner's target selection). */
export const targetFields = {
  target_modules: f.targets({ default: null, doc: 'modules to adapt: names, a regex, "all-linear", or null for the method default' }),
  exclude_modules: f.targets({ default: null, doc: 'modules never adapted: names or a regex' }),
  layers_to_transform: {
    ...f.intList({ default: null, doc: 'adapt only these layer indices' }),
    accepts: 'an integer, a list of integers, or null',
    check: (v: unknown): v is number | number[] | null => v === null || Number.isInteger(v) || (Array.isArray(v) && v.every((x) => Number.isInteger(x))),
  } as Field<number | number[] | null>,
  layers_pattern: {
    ...f.stringList({ default: null, doc: 'the name of the layer list, for layers_to_transform' }),
    accepts: 'a string, a list of strings, or null',
    check: (v: unknown): v is string | string[] | null => v === null || typeof v === 'string' || isStringList(v),
  } as Field<string | string[] | null>,
  modules_to_save: f.stringList({ default: null, doc: 'modules trained in full and saved with the adapter (e.g. classifier heads)' }),
};

export type BaseConfig = Infer<typeof baseFields> & { peft_type: string };

/** A method's config declaration: its fields, its peft_type, and fields it accepts at one value only. */
export interface ConfigSpec<C extends BaseConfig> {
  peftType: string;
  /** The method's short name in messages ('lora'). */
  label: string;
  fields: Schema;
  /** Cross-field rules (e.g. PiSSA init with DoRA); throw a ConfigError naming the fields. */
  validate?(config: C): void;
  /** Reads one legacy or alternative spelling PEFT accepts (e.g. layers_pattern as a string). */
  normaliseRaw?(raw: Record<string, unknown>): Record<string, unknown>;
}

/**
 * Parses `raw` (adapter_config.json fields or user options) against the declaration: PEFT's
 * defaults for missing fields, a ConfigError naming the field and what it accepts for a wrong
 * value, and for an unknown field (with the closest known name).
 */
export function parseMethodConfig<C extends BaseConfig>(spec: ConfigSpec<C>, rawInput: Record<string, unknown>): C {
  const raw = spec.normaliseRaw ? spec.normaliseRaw(rawInput) : rawInput;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(`[${spec.label}] the config must be an object of fields.`, { hint: 'Pass adapter_config.json fields as an object.' });
  if (raw.peft_type !== undefined && raw.peft_type !== spec.peftType) {
    throw new ConfigError(`[${spec.label}] peft_type must be ${JSON.stringify(spec.peftType)}, got ${JSON.stringify(raw.peft_type)}.`, {
      hint: 'Parse the config with the method its peft_type names.',
    });
  }
  const fields: Schema = { ...baseFields, ...spec.fields };
  const config: Record<string, unknown> = { peft_type: spec.peftType };
  for (const [key, field] of Object.entries(fields)) {
    const value = raw[key] === undefined ? structuredClone(field.default) : raw[key];
    if (!field.check(value)) {
      throw new ConfigError(`[${spec.label}] ${key} must be ${field.accepts}, got ${JSON.stringify(value)}.`, { hint: `${key}: ${field.doc}.` });
    }
    config[key] = field.normalise ? field.normalise(value) : value;
  }
  for (const key of Object.keys(raw)) {
    if (key === 'peft_type' || key in fields) continue;
    const guess = didYouMean(key, Object.keys(fields));
    throw new ConfigError(`[${spec.label}] unknown config field '${key}'.`, {
      hint: guess ? `Did you mean '${guess}'?` : `${spec.peftType} fields: ${Object.keys(spec.fields).join(', ')}.`,
    });
  }
  spec.validate?.(config as C);
  return config as C;
}

/** The JSON PEFT writes: every declared field, base fields included. */
export function configToJson<C extends BaseConfig>(config: C): Record<string, unknown> {
  return { ...config };
}

/** One line per field for help text: `name (accepts, default X): doc`. */
export function describeFields(fields: Schema): { name: string; accepts: string; default: unknown; doc: string; cli: Field<unknown>['cli'] }[] {
  return Object.entries(fields).map(([name, field]) => ({ name, accepts: field.accepts, default: field.default, doc: field.doc, cli: field.cli }));
}
