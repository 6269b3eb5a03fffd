import type { LoadDType } from '../models/index.js';
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

/** How the frozen base weights are stored; adapters and optimiser state stay float32. */
export const DTYPE_FLAG = {
  dtype: {
    type: 'string',
    default: 'auto',
    choices: ['auto', 'float32', 'f32', 'bfloat16', 'bf16'],
    help: "storage of the frozen base weights: auto keeps the checkpoint's (BF16 stays bfloat16), bf16 halves memory and runs the bf16 GEMM",
  },
} as const satisfies Record<string, FlagSpec>;

/** The --dtype value as the loader names it. */
export const loadDType = (value: string): LoadDType => (value === 'bf16' ? 'bfloat16' : value === 'f32' ? 'float32' : (value as LoadDType));
