import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { baseFields, describeFields, listMethods, methodByName, type PeftMethod } from '../peft/index.js';
import { UsageError, type FlagSpec } from './command.js';

/** A config field as a flag: `lora_alpha` -> `--lora-alpha`. */
export const fieldFlag = (field: string) => field.replace(/_/g, '-');

/** Base fields are set by the command itself (task, base model, inference mode), never by flag. */
const NOT_FLAGS = new Set(Object.keys(baseFields));

/** Fields a method accepts at PEFT's default only (features not implemented): config files may carry them, flags do not offer them. */
const isFixed = (accepts: string) => accepts.includes('the only value');

/**
 * Every method's config fields as flags (their union), so one parser serves every --method:
 * boolean fields are switches (`--use-dora`), the rest take a value.
 */
export function methodFieldFlags(): { valued: string[]; switches: string[] } {
  const kinds = new Map<string, Set<string>>();
  for (const m of listMethods()) {
    for (const f of describeFields(m.config.fields)) if (!NOT_FLAGS.has(f.name) && !isFixed(f.accepts)) kinds.set(fieldFlag(f.name), (kinds.get(fieldFlag(f.name)) ?? new Set()).add(f.cli));
  }
  const switches = [...kinds].filter(([, k]) => k.size === 1 && k.has('boolean')).map(([flag]) => flag);
  return { valued: [...kinds.keys()].filter((flag) => !switches.includes(flag)), switches };
}

/** The method fields as entries of a command's flag table, with each field's meaning, accepted values, default and owning methods. */
export function methodFlagSpecs(defaults: Record<string, unknown> = {}): Record<string, FlagSpec> {
  const { switches } = methodFieldFlags();
  const specs: Record<string, FlagSpec> = {};
  for (const m of listMethods()) {
    for (const f of describeFields(m.config.fields)) {
      const flag = fieldFlag(f.name);
      if (NOT_FLAGS.has(f.name) || isFixed(f.accepts)) continue;
      if (specs[flag]) {
        specs[flag] = { ...specs[flag], help: specs[flag].help.replace(/\[([^\]]+)\]$/, `[$1, ${m.name}]`) };
        continue;
      }
      const value = m.name === 'lora' && f.name in defaults ? defaults[f.name] : f.default;
      specs[flag] = switches.includes(flag)
        ? { type: 'boolean', help: `${f.doc}; --no-${flag} turns it off (default ${JSON.stringify(value)}) [${m.name}]` }
        : { type: 'text', metavar: f.cli === 'list' ? 'A,B' : f.cli === 'number' ? 'N' : 'VALUE', help: `${f.doc}; ${f.accepts} (default ${JSON.stringify(value)}) [${m.name}]` };
    }
  }
  return specs;
}

/** Reads one flag's text as the field's JSON value. */
function flagValue(method: PeftMethod, field: string, text: unknown): unknown {
  const spec = method.config.fields[field];
  // A config file's value comes typed (YAML/JSON): the method's declaration checks it as it is.
  if (typeof text !== 'string') return text;
  switch (spec.cli) {
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(`[cli] --${fieldFlag(field)} must be ${spec.accepts}, got '${text}'.`, `${field}: ${spec.doc}.`);
      return n;
    }
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw new UsageError(`[cli] --${fieldFlag(field)} must be true or false, got '${text}'.`, `${field}: ${spec.doc}.`);
      return text === 'true';
    case 'list':
      // A single regex or "all-linear" stays a string, as PEFT reads it; a comma list becomes a list.
      return text.includes(',') || (!/[\\^$*+?()[\]|]/.test(text) && text !== 'all-linear')
        ? text
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
            .map((s) => (/^-?\d+$/.test(s) && spec.accepts.includes('integer') ? Number(s) : s))
        : text;
    case 'json':
      try {
        return JSON.parse(text);
      } catch {
        // 'c_attn=4,c_proj=8' for a record of numbers (rank_pattern); a bare word such as gaussian for init_lora_weights.
        if (/^[^=,]+=[^=,]+(,[^=,]+=[^=,]+)*$/.test(text))
          return Object.fromEntries(
            text
              .split(',')
              .map((pair) => pair.split('=').map((x) => x.trim()))
              .map(([k, v]) => [k, Number(v)]),
          );
        return text;
      }
    default:
      return text;
  }
}

/**
 * The adapter config a command trains: `--peft-config FILE` (adapter_config.json fields, any
 * method), then the method's fields given as flags. A flag of another method is an error naming
 * the method it belongs to.
 */
export function peftConfigFromFlags(values: Record<string, unknown>, defaults: Record<string, unknown> = {}, block?: unknown): { method: PeftMethod; config: Record<string, unknown> } {
  let fromFile: Record<string, unknown> = {};
  if (block !== undefined) {
    if (!block || typeof block !== 'object' || Array.isArray(block))
      throw new UsageError('[config] peft: must be a mapping of adapter_config.json fields.', 'E.g. peft: { peft_type: LORA, r: 8, target_modules: [c_attn, c_proj] }.');
    if (typeof values['peft-config'] === 'string') throw new UsageError('[config] both a peft: block and --peft-config were given.', 'Keep one of them.');
    fromFile = block as Record<string, unknown>;
  }
  if (typeof values['peft-config'] === 'string') {
    const path = values['peft-config'];
    try {
      fromFile = JSON.parse(readFileSync(path, 'utf8'));
    } catch (cause) {
      throw new ConfigError(`[cli] --peft-config ${path} could not be read as JSON: ${(cause as Error).message.split('\n')[0]}`, {
        hint: 'Pass an adapter_config.json-style file, e.g. {"peft_type": "IA3", "target_modules": ["c_attn"]}.',
        cause,
      });
    }
    if (!fromFile || typeof fromFile !== 'object' || Array.isArray(fromFile))
      throw new ConfigError(`[cli] --peft-config ${path} must hold an object of adapter_config.json fields.`, { hint: 'For example {"peft_type": "LORA", "r": 8}.' });
  }
  const named = typeof values.method === 'string' ? methodByName(values.method) : null;
  const method = named ?? methodByName(typeof fromFile.peft_type === 'string' ? fromFile.peft_type : 'lora');
  if (named && fromFile.peft_type !== undefined && fromFile.peft_type !== named.config.peftType) {
    throw new UsageError(`[cli] --method ${values.method} disagrees with peft_type ${JSON.stringify(fromFile.peft_type)} in --peft-config.`, 'Drop one of them.');
  }
  const config: Record<string, unknown> = { ...(method.name === 'lora' ? defaults : {}), ...fromFile, peft_type: method.config.peftType };
  const own = new Set(Object.keys(method.config.fields).map(fieldFlag));
  const { valued, switches } = methodFieldFlags();
  for (const flag of [...valued, ...switches]) {
    const value = values[flag];
    if (value === undefined) continue;
    if (!own.has(flag)) {
      const owners = listMethods()
        .filter((m) => Object.keys(m.config.fields).map(fieldFlag).includes(flag))
        .map((m) => m.name);
      throw new UsageError(`[cli] --${flag} is not a field of ${method.name}; it belongs to ${owners.join(', ')}.`, `peft-ts methods ${method.name} lists the fields of ${method.name}.`);
    }
    const field = flag.replace(/-/g, '_');
    config[field] = flagValue(method, field, value);
  }
  return { method, config };
}
