import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';
import { readTextFile } from '../io/index.js';

/**
 * Reads settings from JSON or YAML; keys may be written as the CLI flags (kebab-case), in
 * snake_case or camelCase, and come back as flag names. Values stay as written.
 */
export function readSettingsFile(path: string, known: readonly string[]): Record<string, string | boolean | string[]> {
  const text = readTextFile(path, (problem, cause) => new ConfigError(`[config] ${path} ${problem}.`, { hint: 'Pass a JSON or YAML settings file.', cause }));
  let raw: unknown;
  try {
    raw = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`[config] ${path} could not be read as ${extname(path) === '.json' ? 'JSON' : 'YAML/JSON'}: ${(cause as Error).message.split('\n')[0]}`, { hint: 'Fix the file; keys are the train flags, e.g. "lora-alpha: 16".', cause });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`[config] ${path} must hold a mapping of settings.`, { hint: 'Write key: value pairs, e.g. "epochs: 2".' });
  const out: Record<string, string | boolean | string[]> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const flag = key.replace(/_/g, '-').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    if (!known.includes(flag)) throw new ConfigError(`[config] ${path}: unknown setting '${key}'.`, { hint: `Known settings: ${known.join(', ')}.` });
    out[flag] = typeof value === 'boolean' ? value : Array.isArray(value) ? value.map(String) : String(value);
  }
  return out;
}
