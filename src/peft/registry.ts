import { ConfigError } from '../errors.js';
import type { MethodConfig, PeftMethod } from './method.js';
import { lora } from './methods/lora/index.js';

/** peft_type (adapter_config.json) -> method. Adding a method is its folder and one line here. */
const METHODS: Record<string, PeftMethod<any>> = { LORA: lora };

export function peftMethod(peftType: unknown): PeftMethod<MethodConfig> {
  const method = typeof peftType === 'string' ? METHODS[peftType] : undefined;
  if (!method) {
    throw new ConfigError(`[peft] peft_type ${JSON.stringify(peftType)} is not supported.`, { hint: `Supported: ${Object.keys(METHODS).join(', ')}.` });
  }
  return method;
}
