import { ConfigError } from '../../../errors.js';
import type { TargetSpec } from '../../targets.js';

export type LoraInit = boolean | 'gaussian' | 'pissa' | 'olora';

/** LoRA's adapter_config.json, field for field as HF PEFT's LoraConfig (snake_case, PEFT defaults). */
export interface LoraConfig {
  peft_type: 'LORA';
  task_type: string | null;
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: TargetSpec;
  exclude_modules: TargetSpec;
  fan_in_fan_out: boolean;
  bias: 'none' | 'all' | 'lora_only';
  use_rslora: boolean;
  use_dora: boolean;
  init_lora_weights: LoraInit;
  modules_to_save: string[] | null;
  layers_to_transform: number | number[] | null;
  layers_pattern: string | string[] | null;
  rank_pattern: Record<string, number>;
  alpha_pattern: Record<string, number>;
  base_model_name_or_path: string | null;
  inference_mode: boolean;
  revision: string | null;
  /** Fields peft-ts does not know, kept so a save writes them back. */
  extra: Record<string, unknown>;
}

/**
 * Fields HF PEFT writes that peft-ts accepts at their default value only: any other value
 * asks for a feature peft-ts does not implement, and silently ignoring it would change results.
 */
const INERT_DEFAULTS: Record<string, unknown> = {
  alora_invocation_tokens: null, arrow_config: null, auto_mapping: null, corda_config: null, ensure_weight_tying: false,
  eva_config: null, kasa_config: null, layer_replication: null, loftq_config: {}, lora_bias: false, lora_ga_config: null,
  megatron_config: null, megatron_core: 'megatron.core', monteclora_config: null, peft_version: null, qalora_group_size: 16,
  target_parameters: null, trainable_token_indices: null, use_bdlora: null, use_qalora: false, velora_config: null,
};

const TASK_TYPES = new Set(['CAUSAL_LM', 'SEQ_CLS', 'SEQ_2_SEQ_LM', 'TOKEN_CLS', 'QUESTION_ANS', 'FEATURE_EXTRACTION']);

function fail(field: string, expected: string, value: unknown): never {
  throw new ConfigError(`[lora] ${field} must be ${expected}, got ${JSON.stringify(value)}.`, { hint: 'Fix adapter_config.json or the option you passed.' });
}

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
/** Ranks above this are refused outright (each layer also caps r at its own width, see index.ts). */
export const MAX_RANK = 1 << 16;
const isRank = (x: unknown): x is number => Number.isInteger(x) && (x as number) > 0 && (x as number) <= MAX_RANK;
const isMap = (v: unknown, ok: (x: unknown) => boolean): v is Record<string, number> => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(ok);
const isFiniteNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Parses a LoRA config (JSON fields or user options), applies PEFT's defaults, warns about unknown fields. */
export function parseLoraConfig(raw: Record<string, unknown>, warn: (message: string) => void = () => {}): LoraConfig {
  const get = <T>(field: string, fallback: T): T => (raw[field] === undefined ? fallback : (raw[field] as T));
  const c: LoraConfig = {
    peft_type: 'LORA',
    task_type: get('task_type', null),
    r: get('r', 8),
    lora_alpha: get('lora_alpha', 8),
    lora_dropout: get('lora_dropout', 0),
    target_modules: get('target_modules', null),
    exclude_modules: get('exclude_modules', null),
    fan_in_fan_out: get('fan_in_fan_out', false),
    bias: get('bias', 'none'),
    use_rslora: get('use_rslora', false),
    use_dora: get('use_dora', false),
    init_lora_weights: get('init_lora_weights', true),
    modules_to_save: get('modules_to_save', null),
    layers_to_transform: get('layers_to_transform', null),
    layers_pattern: get('layers_pattern', null),
    rank_pattern: get('rank_pattern', {}),
    alpha_pattern: get('alpha_pattern', {}),
    base_model_name_or_path: get('base_model_name_or_path', null),
    inference_mode: get('inference_mode', false),
    revision: get('revision', null),
    extra: {},
  };
  if (raw.peft_type !== undefined && raw.peft_type !== 'LORA') fail('peft_type', '"LORA"', raw.peft_type);
  if (!isRank(c.r)) fail('r', `a positive integer of at most ${MAX_RANK}`, c.r);
  if (typeof c.lora_alpha !== 'number' || !Number.isFinite(c.lora_alpha)) fail('lora_alpha', 'a number', c.lora_alpha);
  if (typeof c.lora_dropout !== 'number' || c.lora_dropout < 0 || c.lora_dropout >= 1) fail('lora_dropout', 'in [0, 1)', c.lora_dropout);
  if (c.target_modules !== null && typeof c.target_modules !== 'string' && !isStringList(c.target_modules)) fail('target_modules', 'a list of names, a regex string or "all-linear"', c.target_modules);
  if (c.exclude_modules !== null && typeof c.exclude_modules !== 'string' && !isStringList(c.exclude_modules)) fail('exclude_modules', 'a list of names or a regex string', c.exclude_modules);
  if (!['none', 'all', 'lora_only'].includes(c.bias)) fail('bias', '"none", "all" or "lora_only"', c.bias);
  if (![true, false, 'gaussian', 'pissa', 'olora'].includes(c.init_lora_weights as never)) fail('init_lora_weights', 'true, false, "gaussian", "pissa" or "olora"', c.init_lora_weights);
  if (c.modules_to_save !== null && !isStringList(c.modules_to_save)) fail('modules_to_save', 'a list of module names', c.modules_to_save);
  if (!isMap(c.rank_pattern, isRank)) fail('rank_pattern', `an object of pattern -> rank (a positive integer of at most ${MAX_RANK})`, c.rank_pattern);
  if (!isMap(c.alpha_pattern, isFiniteNumber)) fail('alpha_pattern', 'an object of pattern -> alpha (a finite number)', c.alpha_pattern);
  for (const flag of ['fan_in_fan_out', 'use_rslora', 'use_dora', 'inference_mode'] as const) if (typeof c[flag] !== 'boolean') fail(flag, 'true or false', c[flag]);
  if (c.task_type !== null && !TASK_TYPES.has(c.task_type)) fail('task_type', `one of ${[...TASK_TYPES].join(', ')} or null`, c.task_type);
  if (typeof c.init_lora_weights === 'string' && ['pissa', 'olora'].includes(c.init_lora_weights) && c.use_dora) fail('init_lora_weights', 'true/false/"gaussian" with use_dora', c.init_lora_weights);

  const known = new Set([...Object.keys(c), 'peft_type']);
  for (const [field, value] of Object.entries(raw)) {
    if (known.has(field)) continue;
    if (field in INERT_DEFAULTS) {
      const inert = JSON.stringify(INERT_DEFAULTS[field]);
      if (field !== 'peft_version' && field !== 'auto_mapping' && JSON.stringify(value) !== inert && !(value === null && field === 'loftq_config')) {
        throw new ConfigError(`[lora] ${field}=${JSON.stringify(value)} asks for a feature peft-ts does not implement.`, { hint: `Remove it or set it to ${inert}.` });
      }
      continue;
    }
    warn(`[lora] unknown config field '${field}' kept as is; peft-ts does not use it.`);
    c.extra[field] = value;
  }
  return c;
}

/** The JSON PEFT writes: every LoraConfig field, inert ones at their defaults, unknown ones kept. */
export function loraConfigToJson(c: LoraConfig): Record<string, unknown> {
  const { extra, ...fields } = c;
  return { ...INERT_DEFAULTS, peft_version: undefined, ...extra, ...fields };
}
