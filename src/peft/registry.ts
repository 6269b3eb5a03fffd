import { ConfigError, didYouMean } from '../errors.js';
import type { MethodConfig, PeftMethod } from './method.js';
import { lora, type LoraConfigInput } from './methods/lora/index.js';

/** peft_type (adapter_config.json) -> method. Adding a method is its folder and one line here. */
const METHODS: Record<string, PeftMethod<any>> = { LORA: lora };

export function peftMethod(peftType: unknown): PeftMethod<MethodConfig> {
  const method = typeof peftType === 'string' ? METHODS[peftType] : undefined;
  if (!method) {
    throw new ConfigError(`[peft] peft_type ${JSON.stringify(peftType)} is not supported.`, { hint: `Supported: ${Object.keys(METHODS).join(', ')}.` });
  }
  return method;
}

/** A PEFT config as a user writes it in code: one typed input per method (extend the union with each method). */
export type PeftConfigInput = LoraConfigInput;

/**
 * Checks a PEFT config a user wrote (a config file's `peft:` block, train({ peft })) with its
 * method's parser: unlike adapter_config.json from a newer PEFT (unknown fields warn), an unknown
 * field here is a typo and an error, with the nearest accepted name.
 */
export function checkUserPeftConfig(raw: Record<string, unknown>, where = 'peft'): Record<string, unknown> {
  const peftType = typeof raw.peft_type === 'string' ? raw.peft_type.toUpperCase() : raw.peft_type ?? 'LORA';
  const method = peftMethod(peftType);
  const known = new Set(Object.keys(method.configToJson(method.parseConfig({ peft_type: method.peftType }))));
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) throw new ConfigError(`[peft] ${where}: unknown ${method.peftType} setting '${key}'.${didYouMean(key, known)}`, { hint: `Accepted: ${[...known].sort().join(', ')}.` });
  }
  const checked = { ...raw, peft_type: method.peftType };
  method.parseConfig(checked);
  return checked;
}
