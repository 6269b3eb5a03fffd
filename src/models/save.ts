import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { saveSafetensors, writeTextAtomic, type SaveOptions } from '../io/index.js';
import type { PretrainedModel } from './model.js';

/**
 * Writes a model folder transformers can load: config.json and model.safetensors, tied weights
 * stored once under their first name (as transformers writes them). Both files are atomic.
 */
export function savePretrained(model: PretrainedModel, dir: string, options: SaveOptions = {}): void {
  mkdirSync(dir, { recursive: true });
  saveSafetensors(join(dir, 'model.safetensors'), new Map(model.namedParameters()), { format: 'pt' }, options);
  writeTextAtomic(join(dir, 'config.json'), `${JSON.stringify(model.config.raw, null, 2)}\n`);
}
