import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { ArgumentError } from '../../errors.js';
import { GGUF_FLOAT_TYPES, writeGGUF, type GGUFFloatType } from '../../io/index.js';
import { modelToGGUF, type TokenizerFiles } from '../../models/index.js';
import { adapterToGGUF } from '../../peft/index.js';
import { defineCommand, UsageError } from '../command.js';
import { loadModel, loadTokenizer } from './model-io.js';

/**
 * Writes a llama.cpp GGUF file: the base model (no --adapter), a LoRA adapter for llama.cpp's
 * --lora / Ollama's ADAPTER (one --adapter), or the model with its adapters merged (--merge).
 */
export const exportCommand = defineCommand({
  name: 'export',
  summary: 'write a llama.cpp GGUF file: the base model, a LoRA adapter, or the merged model',
  flags: {
    format: { type: 'string', choices: ['gguf'], required: true, metavar: 'FORMAT', help: 'the file format (the argument: peft-ts export gguf)' },
    model: { type: 'string', required: true, metavar: 'DIR|FILE.gguf', help: 'model folder or GGUF file' },
    adapter: { type: 'repeat', default: [], metavar: 'DIR', help: 'adapter folder: exported alone, or folded in with --merge (repeatable then)' },
    out: { type: 'string', required: true, metavar: 'FILE.gguf', help: 'the file to write (never overwritten)' },
    type: { type: 'string', choices: GGUF_FLOAT_TYPES.map((t) => t.toLowerCase()), default: 'f16', help: 'tensor type of the weights' },
    merge: { type: 'boolean', default: false, help: 'fold the adapters into the weights' },
  },
  positional: { flag: 'format' },
  run(v, { out }) {
    const type = v.type.toUpperCase() as GGUFFloatType;
    if (v.merge && v.adapter.length === 0) throw new UsageError('[export] --merge needs at least one --adapter.', "Run 'peft-ts export --help' for every flag.");
    if (!v.merge && v.adapter.length > 1)
      throw new UsageError(`[export] ${v.adapter.length} adapters given; a GGUF adapter file holds one.`, 'Export each adapter to its own file (llama.cpp and Ollama stack them), or pass --merge.');
    if (existsSync(v.out)) throw new ArgumentError(`[export] ${v.out} already exists.`, 'Choose a new --out file or delete the old one; nothing was overwritten.');
    const { model, peft } = loadModel(v.model, v.adapter);
    const name = basename(resolve(v.adapter.length && !v.merge ? v.adapter[0] : v.model)).replace(/\.gguf$/i, '');
    if (peft && !v.merge) {
      const { metadata, tensors } = adapterToGGUF(peft, peft.activeAdapters[0], { type, name });
      writeGGUF(v.out, metadata, tensors);
      out.note(`wrote LoRA adapter ${v.out} (${tensors.length / 2} adapted matrices, ${v.type}); load it over the base model exported without --adapter`);
      return;
    }
    const tokenizer = loadTokenizer(v.model);
    const files: TokenizerFiles = { json: tokenizer.json, config: tokenizer.config };
    const { metadata, tensors } = modelToGGUF(peft ? peft.mergeAndUnload() : model, { type, name, tokenizer: files });
    writeGGUF(v.out, metadata, tensors);
    out.note(`wrote ${peft ? 'merged ' : ''}model ${v.out} (${tensors.length} tensors, ${v.type})`);
  },
});
