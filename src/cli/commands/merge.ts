import { copyFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentError } from '../../errors.js';
import { savePretrained } from '../../models/index.js';
import { adapterFlags, parse, required, UsageError } from '../args.js';
import type { Output } from '../output.js';
import { checkOutputFolder } from '../output-folder.js';
import { loadModel } from './model-io.js';

const USAGE = 'peft-ts merge --model DIR --adapter DIR [--adapter DIR]... --out DIR [--overwrite]';

/** Files besides the weights that make a model folder usable: tokenizer, generation settings. */
const COMPANIONS = /^(tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|generation_config\.json|vocab\.(json|txt)|merges\.txt|.*\.model)$/;

/** Folds adapters into the base weights and writes a plain Hugging Face checkpoint. */
export function merge(argv: string[], out: Output): void {
  const { values } = parse(argv, { model: { type: 'string' }, adapter: { type: 'string', multiple: true }, out: { type: 'string' }, overwrite: { type: 'boolean' } }, USAGE);
  const dir = required(values.model, '--model', USAGE);
  if (dir.toLowerCase().endsWith('.gguf')) throw new ArgumentError(`[merge] ${dir} is a GGUF file; merge writes a Hugging Face folder from a model folder.`, 'To merge into a GGUF, run `peft-ts export gguf --model FILE.gguf --adapter DIR --merge --out merged.gguf`.');
  const adapters = adapterFlags(values.adapter);
  if (adapters.length === 0) throw new UsageError('[merge] at least one --adapter is required.', `Usage: ${USAGE}`);
  const target = required(values.out, '--out', USAGE);
  checkOutputFolder(target, '--out', values.overwrite === true);
  const { peft } = loadModel(dir, adapters, { out });
  const merged = peft!.mergeAndUnload();
  savePretrained(merged, target);
  // Regular files only: a FIFO or folder named like a companion would block or fail the copy.
  for (const file of readdirSync(dir).filter((f) => COMPANIONS.test(f) && statSync(join(dir, f)).isFile())) copyFileSync(join(dir, file), join(target, file));
  out.note(`merged ${adapters.length} adapter(s) into ${target}`);
}
