import { basename, resolve } from 'node:path';
import { loadAdapter, PeftModel } from '../../peft/index.js';
import { ArgumentError, ConfigError } from '../../errors.js';
import { HFTokenizer, readGGUFHeader, readTextFile } from '../../io/index.js';
import { castFrozenWeights } from '../../nn/index.js';
import { describeLoadReport, loadGGUFModel, loadPretrained, tokenizerFromGGUF, type CausalLM, type LoadDType, type PretrainedModel } from '../../models/index.js';
import { Tensor } from '../../tensor/index.js';
import type { Output } from '../output.js';

/** A model to run: the base, or the base with adapters (all active, their outputs summed). */
export interface Runnable {
  model: PretrainedModel;
  forward: PretrainedModel['forward'];
  peft: PeftModel | null;
}

const isGGUF = (path: string) => path.toLowerCase().endsWith('.gguf');

/** Where load notices go, and how the frozen base weights are stored. */
export interface LoadModelOptions {
  out?: Output;
  dtype?: LoadDType;
}

/**
 * Loads the base model (a Hugging Face folder, saying which keys were ignored or initialised, or
 * a llama.cpp .gguf file) and every --adapter folder (named by folder) on top of it.
 */
export function loadModel(dir: string, adapters: string[] = [], options: LoadModelOptions = {}): Runnable {
  const dtype = options.dtype ?? 'auto';
  const { model, report } = isGGUF(dir) ? loadGGUFModel(dir) : loadPretrained(dir, { dtype });
  // A GGUF is dequantised to float32 on load; bfloat16 storage only when asked.
  if (isGGUF(dir) && dtype === 'bfloat16') castFrozenWeights(model, 'bfloat16');
  const notice = describeLoadReport(report);
  if (notice && options.out) options.out.note(notice);
  if (adapters.length === 0) return { model, forward: model.forward.bind(model) as PretrainedModel['forward'], peft: null };
  const peft = new PeftModel(model);
  const names = adapters.map((path, i) => basename(resolve(path)).replace(/[^A-Za-z0-9_-]/g, '_') + (adapters.length > 1 ? `_${i}` : ''));
  adapters.forEach((path, i) => loadAdapter(peft, path, names[i]));
  peft.setAdapter(names);
  return { model, forward: ((input: never) => peft.forward(input)) as PretrainedModel['forward'], peft };
}

export function causalLMWithAdapters(dir: string, adapters: string[] = [], options: LoadModelOptions = {}): CausalLM {
  const { model } = loadModel(dir, adapters, options);
  if (model.task !== 'causal-lm') throw new ConfigError(`[cli] ${dir} holds a ${model.task} model; this command needs a causal LM.`, { hint: 'Use a GPT-2, Llama, Qwen2 or Mistral checkpoint.' });
  return model;
}

export function loadTokenizer(dir: string): HFTokenizer {
  if (!isGGUF(dir)) return HFTokenizer.fromDir(dir);
  const files = tokenizerFromGGUF(readGGUFHeader(dir));
  if (!files) throw new ConfigError(`[tokenizer] ${dir} has no byte-level BPE vocabulary peft-ts can read.`, { hint: 'Use a model folder with tokenizer.json for text commands.' });
  return new HFTokenizer(files.json, files.config);
}

/** Reads {"input_ids": [[...]], "attention_mask"?: [[...]], "token_type_ids"?: [[...]]} as int32 [B, T] tensors. */
export function readInputs(path: string): { inputIds: Tensor; attentionMask?: Tensor; tokenTypeIds?: Tensor } {
  const text = readTextFile(path, (problem) => new ArgumentError(`[forward] ${path} ${problem}.`, 'Pass a JSON file such as {"input_ids": [[1, 2, 3]]}.'));
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ArgumentError(`[forward] ${path} is not readable JSON.`, 'Write {"input_ids": [[1, 2, 3]]}.');
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ArgumentError(`[forward] ${path} is not a JSON object.`, 'Write {"input_ids": [[1, 2, 3]]}.');
  const matrix = (field: string): Tensor | undefined => {
    const rows = raw[field];
    if (rows === undefined) return undefined;
    if (!Array.isArray(rows) || rows.length === 0 || !rows.every((r) => Array.isArray(r) && r.length === (rows[0] as unknown[]).length && r.every(Number.isInteger))) {
      throw new ArgumentError(`[forward] ${path}: '${field}' must be a non-empty list of equal-length lists of integers.`, 'Pad rows to one length and pass attention_mask.');
    }
    return Tensor.from((rows as number[][]).flat(), [rows.length, (rows[0] as number[]).length], 'int32');
  };
  const inputIds = matrix('input_ids');
  if (!inputIds) throw new ArgumentError(`[forward] ${path} has no 'input_ids'.`, 'Write {"input_ids": [[1, 2, 3]]}.');
  const attentionMask = matrix('attention_mask'),
    tokenTypeIds = matrix('token_type_ids');
  if (attentionMask && !attentionMask.int32Data().every((v) => v === 0 || v === 1))
    throw new ArgumentError(`[forward] ${path}: 'attention_mask' must hold only 0 (padding) and 1 (token).`, 'Other values would scale the mask silently.');
  for (const [name, t] of [
    ['attention_mask', attentionMask],
    ['token_type_ids', tokenTypeIds],
  ] as const) {
    if (t && (t.shape[0] !== inputIds.shape[0] || t.shape[1] !== inputIds.shape[1])) throw new ArgumentError(`[forward] ${path}: '${name}' must have the shape of input_ids.`, 'One entry per token.');
  }
  return { inputIds, attentionMask, tokenTypeIds };
}
