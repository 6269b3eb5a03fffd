import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { ArgumentError } from '../../errors.js';
import { GGUF_FLOAT_TYPES, writeGGUF, type GGUFFloatType } from '../../io/index.js';
import { modelToGGUF, type TokenizerFiles } from '../../models/index.js';
import { adapterToGGUF } from '../../peft/index.js';
import { adapterFlags, parse, required, UsageError } from '../args.js';
import type { Output } from '../output.js';
import { loadModel, loadTokenizer } from './model-io.js';

const USAGE = 'peft-ts export gguf --model DIR|FILE.gguf [--adapter DIR]... --out FILE.gguf [--type f32|f16|bf16|q8_0] [--merge]';

/**
 * Writes a llama.cpp GGUF file: the base model (no --adapter), a LoRA adapter for llama.cpp's
 * --lora / Ollama's ADAPTER (one --adapter), or the model with its adapters merged (--merge).
 */
export function exportCommand(argv: string[], out: Output): void {
  const { values, positionals } = parse(argv, { model: { type: 'string' }, adapter: { type: 'string', multiple: true }, out: { type: 'string' }, type: { type: 'string' }, merge: { type: 'boolean' } }, USAGE);
  if (positionals.length !== 1 || positionals[0] !== 'gguf') throw new UsageError(`[export] expected the format 'gguf', got ${positionals.length ? `'${positionals.join(' ')}'` : 'none'}.`, `Usage: ${USAGE}`);
  const dir = required(values.model, '--model', USAGE);
  const target = required(values.out, '--out', USAGE);
  const adapters = adapterFlags(values.adapter);
  const typeName = typeof values.type === 'string' ? values.type : 'f16';
  const type = typeName.toUpperCase() as GGUFFloatType;
  if (!GGUF_FLOAT_TYPES.includes(type)) throw new UsageError(`[export] --type '${typeName}' is not supported.`, `Use one of: ${GGUF_FLOAT_TYPES.map((t) => t.toLowerCase()).join(', ')}.`);
  if (values.merge && adapters.length === 0) throw new UsageError('[export] --merge needs at least one --adapter.', `Usage: ${USAGE}`);
  if (!values.merge && adapters.length > 1) throw new UsageError(`[export] ${adapters.length} adapters given; a GGUF adapter file holds one.`, 'Export each adapter to its own file (llama.cpp and Ollama stack them), or pass --merge.');
  if (existsSync(target)) throw new ArgumentError(`[export] ${target} already exists.`, 'Choose a new --out file or delete the old one; nothing was overwritten.');

  const { model, peft } = loadModel(dir, adapters);
  const name = basename(resolve(adapters.length && !values.merge ? adapters[0] : dir)).replace(/\.gguf$/i, '');
  if (peft && !values.merge) {
    const { metadata, tensors } = adapterToGGUF(peft, peft.activeAdapters[0], { type, name });
    writeGGUF(target, metadata, tensors);
    out.note(`wrote LoRA adapter ${target} (${tensors.length / 2} adapted matrices, ${typeName}); load it over the base model exported without --adapter`);
    return;
  }
  const tokenizer = loadTokenizer(dir);
  const files: TokenizerFiles = { json: tokenizer.json, config: tokenizer.config };
  const { metadata, tensors } = modelToGGUF(peft ? peft.mergeAndUnload() : model, { type, name, tokenizer: files });
  writeGGUF(target, metadata, tensors);
  out.note(`wrote ${peft ? 'merged ' : ''}model ${target} (${tensors.length} tensors, ${typeName})`);
}
