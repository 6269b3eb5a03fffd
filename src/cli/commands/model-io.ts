import { readFileSync } from 'node:fs';
import { ArgumentError, ConfigError } from '../../errors.js';
import { HFTokenizer } from '../../io/index.js';
import { loadPretrained, type CausalLM, type PretrainedModel } from '../../models/index.js';
import { Tensor } from '../../tensor/index.js';

export function loadCausalLM(dir: string): CausalLM {
  const { model } = loadPretrained(dir);
  if (model.task !== 'causal-lm') throw new ConfigError(`[cli] ${dir} holds a ${model.task} model; this command needs a causal LM.`, { hint: 'Use a GPT-2, Llama, Qwen2 or Mistral checkpoint.' });
  return model;
}

export function loadModel(dir: string): PretrainedModel {
  return loadPretrained(dir).model;
}

export function loadTokenizer(dir: string): HFTokenizer {
  return HFTokenizer.fromDir(dir);
}

/** Reads {"input_ids": [[...]], "attention_mask"?: [[...]], "token_type_ids"?: [[...]]} as int32 [B, T] tensors. */
export function readInputs(path: string): { inputIds: Tensor; attentionMask?: Tensor; tokenTypeIds?: Tensor } {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new ArgumentError(`[forward] ${path} is not readable JSON.`, 'Write {"input_ids": [[1, 2, 3]]}.');
  }
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
  const attentionMask = matrix('attention_mask'), tokenTypeIds = matrix('token_type_ids');
  for (const [name, t] of [['attention_mask', attentionMask], ['token_type_ids', tokenTypeIds]] as const) {
    if (t && (t.shape[0] !== inputIds.shape[0] || t.shape[1] !== inputIds.shape[1])) throw new ArgumentError(`[forward] ${path}: '${name}' must have the shape of input_ids.`, 'One entry per token.');
  }
  return { inputIds, attentionMask, tokenTypeIds };
}
