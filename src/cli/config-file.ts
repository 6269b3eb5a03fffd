import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';
import { readTextFile } from '../io/index.js';

/** Reads a JSON or YAML settings file as a mapping; values stay as written (checked against the command's flags by the caller). */
export function readSettingsFile(path: string): Record<string, unknown> {
  // A FIFO, a folder or an unreadable path is refused before reading; a byte-order mark is not part of the first key.
  const text = readTextFile(path, (problem, cause) => new ConfigError(`[config] ${path} ${problem}.`, { hint: 'Pass a JSON or YAML settings file.', cause })).replace(/^\uFEFF/, '');
  let raw: unknown;
  try {
    raw = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`[config] ${path} could not be read as ${extname(path) === '.json' ? 'JSON' : 'YAML/JSON'}: ${(cause as Error).message.split('\n')[0]}`, {
      hint: 'Fix the file; keys are the flags or Hugging Face TrainingArguments names, e.g. "learning_rate: 2e-4".',
      cause,
    });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(`[config] ${path} must hold a mapping of settings.`, { hint: 'Write key: value pairs, e.g. "num_train_epochs: 2".' });
  return raw as Record<string, unknown>;
}
