import type { FlagSpec } from './command.js';

/** Flags several commands share, declared once. */
export const MODEL_FLAGS = {
  model: { type: 'string', required: true, metavar: 'DIR|ORG/NAME', help: 'model folder, or a Hugging Face hub id looked up in the hub cache (HF_HUB_CACHE / HF_HOME) and downloaded when absent' },
  revision: { type: 'string', default: 'main', metavar: 'REF', help: 'hub branch, tag or commit when --model is a hub id' },
} as const satisfies Record<string, FlagSpec>;

export const ADAPTER_FLAG = {
  adapter: { type: 'repeat', default: [], metavar: 'DIR', help: 'adapter folder (adapter_config.json + adapter_model.safetensors); repeat to sum several' },
} as const satisfies Record<string, FlagSpec>;

export const JSON_FLAG = {
  json: { type: 'boolean', default: false, help: 'print the result as JSON on stdout' },
} as const satisfies Record<string, FlagSpec>;
