import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentError } from '../../errors.js';
import { savePretrained } from '../../models/index.js';
import { adapterFlags, parse, required } from '../args.js';
import type { Output } from '../output.js';
import { loadModel } from './model-io.js';

const USAGE = 'peft-ts merge --model DIR --adapter DIR [--adapter DIR]... --out DIR';

/** Files besides the weights that make a model folder usable: tokenizer, generation settings. */
const COMPANIONS = /^(tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|generation_config\.json|vocab\.(json|txt)|merges\.txt|.*\.model)$/;

/** Folds adapters into the base weights and writes a plain Hugging Face checkpoint. */
export function merge(argv: string[], out: Output): void {
  const { values } = parse(argv, { model: { type: 'string' }, adapter: { type: 'string', multiple: true }, out: { type: 'string' } }, USAGE);
  const dir = required(values.model, '--model', USAGE);
  if (dir.toLowerCase().endsWith('.gguf')) throw new ArgumentError(`[merge] ${dir} is a GGUF file; merge writes a Hugging Face folder from a model folder.`, 'To merge into a GGUF, run `peft-ts export gguf --model FILE.gguf --adapter DIR --merge --out merged.gguf`.');
  const adapters = adapterFlags(values.adapter);
  if (adapters.length === 0) throw new ArgumentError('[merge] at least one --adapter is required.', `Usage: ${USAGE}`);
  const target = required(values.out, '--out', USAGE);
  if (existsSync(join(target, 'model.safetensors'))) throw new ArgumentError(`[merge] ${target} already holds a model.safetensors.`, 'Choose an empty --out folder; nothing was overwritten.');
  const { peft } = loadModel(dir, adapters);
  const merged = peft!.mergeAndUnload();
  savePretrained(merged, target);
  for (const file of readdirSync(dir).filter((f) => COMPANIONS.test(f))) copyFileSync(join(dir, file), join(target, file));
  out.note(`merged ${adapters.length} adapter(s) into ${target}`);
}
