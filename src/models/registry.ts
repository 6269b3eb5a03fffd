import { ConfigError } from '../errors.js';
import { bert } from './bert/index.js';
import { gpt2 } from './gpt2/index.js';
import { llama, mistral, qwen2 } from './llama/index.js';
import type { ArchSpec, ModelConfig } from './model.js';

/** model_type (config.json) -> architecture. Adding one is its folder and one line here. */
const ARCHITECTURES: Record<string, ArchSpec<any>> = { gpt2, llama, qwen2, mistral, bert };

export function architecture(modelType: unknown): ArchSpec<ModelConfig> {
  const spec = typeof modelType === 'string' ? ARCHITECTURES[modelType] : undefined;
  if (!spec) {
    throw new ConfigError(`[config] model_type ${JSON.stringify(modelType)} is not supported.`, { hint: `Supported: ${Object.keys(ARCHITECTURES).join(', ')}.` });
  }
  return spec;
}

export function supportedModelTypes(): string[] {
  return Object.keys(ARCHITECTURES);
}
