import { ConfigError } from '../errors.js';
import { HFTokenizer, resolveModelDir } from '../io/index.js';
import { loadPretrained } from './load.js';
import type { CausalLM, SequenceClassifier } from './model.js';

/** Where a model comes from: a folder, or a hub id resolved through the hub cache (downloaded when absent and online). */
export interface FromPretrainedOptions {
  revision?: string;
  cacheDir?: string;
}

/** A causal LM from a folder or hub id, as transformers' AutoModelForCausalLM.from_pretrained. */
export async function loadCausalLM(nameOrPath: string, options: FromPretrainedOptions = {}): Promise<CausalLM> {
  const { model } = loadPretrained(await resolveModelDir(nameOrPath, options), { task: 'causal-lm' });
  if (model.task !== 'causal-lm') throw new ConfigError(`[load] ${nameOrPath} is not a causal LM.`, { hint: 'Use loadSequenceClassifier for it.' });
  return model;
}

/**
 * A sequence classifier from a folder or hub id, as AutoModelForSequenceClassification.from_pretrained:
 * BERT, or a decoder (GPT-2, Llama, Qwen2, Mistral) with a `score` head, new when the checkpoint is a plain LM.
 */
export async function loadSequenceClassifier(nameOrPath: string, options: FromPretrainedOptions & { numLabels?: number } = {}): Promise<SequenceClassifier> {
  const { model } = loadPretrained(await resolveModelDir(nameOrPath, options), { task: 'sequence-classification', numLabels: options.numLabels });
  if (model.task !== 'sequence-classification') throw new ConfigError(`[load] ${nameOrPath} has no sequence-classification form here.`, { hint: 'Use a BERT, GPT-2, Llama, Qwen2 or Mistral model.' });
  return model;
}

/** The tokenizer of a folder or hub id (tokenizer.json, tokenizer_config.json, chat_template.jinja), as AutoTokenizer.from_pretrained. */
export async function loadTokenizer(nameOrPath: string, options: FromPretrainedOptions = {}): Promise<HFTokenizer> {
  return HFTokenizer.fromDir(await resolveModelDir(nameOrPath, options));
}
