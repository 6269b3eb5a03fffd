import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { baseFields, describeFields, listMethods, methodByName, type PeftMethod } from '../peft/index.js';
import { UsageError } from './args.js';

/** A config field as a flag: `lora_alpha` -> `--lora-alpha`. */
export const fieldFlag = (field: string) => field.replace(/_/g, '-');

/** Base fields are set by the command itself (task, base model, inference mode), never by flag. */
const NOT_FLAGS = new Set(Object.keys(baseFields));

/**
 * Every method's config fields as flags (their union), so one parser serves every --method:
 * boolean fields are switches (`--use-dora`), the rest take a value.
 */
export function methodFieldFlags(): { valued: string[]; switches: string[] } {
  const kinds = new Map<string, Set<string>>();
  for (const m of listMethods()) {
    for (const f of describeFields(m.config.fields)) if (!NOT_FLAGS.has(f.name)) kinds.set(fieldFlag(f.name), (kinds.get(fieldFlag(f.name)) ?? new Set()).add(f.cli));
  }
  const switches = [...kinds].filter(([, k]) => k.size === 1 && k.has('boolean')).map(([flag]) => flag);
  return { valued: [...kinds.keys()].filter((flag) => !switches.includes(flag)), switches };
}

/** Reads one flag's text as the field's JSON value. */
function flagValue(method: PeftMethod, field: string, text: string | boolean): unknown {
  const spec = method.config.fields[field];
  if (typeof text === 'boolean') return text;
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
      return text.includes(',') || !/[\\^$*+?()[\]|]/.test(text) && text !== 'all-linear' ? text.split(',').map((s) => s.trim()).filter(Boolean).map((s) => (/^-?\d+$/.test(s) && spec.accepts.includes('integer') ? Number(s) : s)) : text;
    case 'json':
      try {
        return JSON.parse(text);
      } catch {
        return text; // a bare word such as gaussian for init_lora_weights
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
export function peftConfigFromFlags(values: Record<string, unknown>, defaults: Record<string, unknown> = {}): { method: PeftMethod; config: Record<string, unknown> } {
  let fromFile: Record<string, unknown> = {};
  if (typeof values['peft-config'] === 'string') {
    const path = values['peft-config'];
    try {
      fromFile = JSON.parse(readFileSync(path, 'utf8'));
    } catch (cause) {
      throw new ConfigError(`[cli] --peft-config ${path} could not be read as JSON: ${(cause as Error).message.split('\n')[0]}`, { hint: 'Pass an adapter_config.json-style file, e.g. {"peft_type": "IA3", "target_modules": ["c_attn"]}.', cause });
    }
    if (!fromFile || typeof fromFile !== 'object' || Array.isArray(fromFile)) throw new ConfigError(`[cli] --peft-config ${path} must hold an object of adapter_config.json fields.`, { hint: 'For example {"peft_type": "LORA", "r": 8}.' });
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
      const owners = listMethods().filter((m) => Object.keys(m.config.fields).map(fieldFlag).includes(flag)).map((m) => m.name);
      throw new UsageError(`[cli] --${flag} is not a field of ${method.name}; it belongs to ${owners.join(', ')}.`, `peft-ts methods ${method.name} lists the fields of ${method.name}.`);
    }
    const field = flag.replace(/-/g, '_');
    config[field] = flagValue(method, field, value as string | boolean);
  }
  return { method, config };
}
