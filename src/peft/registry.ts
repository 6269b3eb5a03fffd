import { ConfigError } from '../errors.js';
import { didYouMean, parseMethodConfig } from './config.js';
import type { InputMethod, LayerMethod, MethodConfig, PeftMethod } from './method.js';
import { dept } from './methods/dept/index.js';
import { adalora } from './methods/adalora/index.js';
import { boft } from './methods/boft/index.js';
import { fourierft } from './methods/fourierft/index.js';
import { hra } from './methods/hra/index.js';
import { ia3 } from './methods/ia3/index.js';
import { lnTuning } from './methods/ln-tuning/index.js';
import { loha } from './methods/loha/index.js';
import { lokr } from './methods/lokr/index.js';
import { lora } from './methods/lora/index.js';
import { prefixTuning } from './methods/prefix-tuning/index.js';
import { pTuning } from './methods/p-tuning/index.js';
import { promptTuning } from './methods/prompt-tuning/index.js';
import { oft } from './methods/oft/index.js';
import { trainableTokens } from './methods/trainable-tokens/index.js';
import { vblora } from './methods/vblora/index.js';
import { vera } from './methods/vera/index.js';

/** Every method peft-ts implements. Adding a method is its folder and one line here. */
const METHODS = [
  lora,
  lnTuning,
  trainableTokens,
  ia3,
  loha,
  lokr,
  vera,
  fourierft,
  oft,
  hra,
  boft,
  adalora,
  vblora,
  promptTuning,
  prefixTuning,
  pTuning,
  dept,
] as const satisfies readonly PeftMethod[];

type ConfigOf<M> = M extends LayerMethod<infer C> ? C : M extends InputMethod<infer C> ? C : never;

/**
 * A config as a user writes it: the fields of any one method, PEFT's defaults for the rest
 * (peft_type picks the method; LORA when absent). A misspelt field does not compile.
 */
export type PeftConfigInput = { [I in keyof typeof METHODS]: Partial<ConfigOf<(typeof METHODS)[I]>> }[number];

export function listMethods(): readonly PeftMethod[] {
  return METHODS;
}

/** The method a peft_type names ("LORA"), as adapter_config.json spells it. */
export function peftMethod(peftType: unknown): PeftMethod {
  const method = METHODS.find((m) => m.config.peftType === peftType);
  if (!method) {
    const guess =
      typeof peftType === 'string'
        ? didYouMean(
            peftType,
            METHODS.map((m) => m.config.peftType),
          )
        : null;
    throw new ConfigError(`[peft] peft_type ${JSON.stringify(peftType)} is not supported.`, {
      hint: `${guess ? `Did you mean ${guess}? ` : ''}Supported: ${METHODS.map((m) => m.config.peftType).join(', ')}.`,
    });
  }
  return method;
}

/** The method a CLI name names ("lora", "ia3"; case and '_' vs '-' do not matter). */
export function methodByName(name: string): PeftMethod {
  const key = name.toLowerCase().replace(/_/g, '-');
  const method = METHODS.find((m) => m.name === key || m.config.peftType.toLowerCase().replace(/_/g, '-') === key);
  if (!method) {
    const guess = didYouMean(
      key,
      METHODS.map((m) => m.name),
    );
    throw new ConfigError(`[peft] no method named '${name}'.`, {
      hint: `${guess ? `Did you mean '${guess}'? ` : ''}Methods: ${METHODS.map((m) => m.name).join(', ')} (peft-ts methods lists their fields).`,
    });
  }
  return method;
}

/** Parses a config of any method: its peft_type picks the method (LORA when absent). */
export function parsePeftConfig(raw: Record<string, unknown>): MethodConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError('[peft] a PEFT config must be an object of adapter_config.json fields.', { hint: 'For example { "peft_type": "LORA", "r": 8 }.' });
  return parseMethodConfig(peftMethod(raw.peft_type ?? 'LORA').config, raw);
}
