import { ConfigError } from '../errors.js';
import { catastrophicBacktracking } from '../io/index.js';
import { Conv1D, Linear, type Module } from '../nn/index.js';

/** Modules that are never 'all-linear' targets: output heads. */
const HEADS = /(^|\.)(lm_head|classifier|score)$/;

export type TargetSpec = string | string[] | null;

/**
 * A regex from an adapter config (target_modules, rank_pattern keys, ...) wrapped as `template`
 * does with {}: invalid ones and ones that can backtrack without limit are ConfigErrors.
 */
function configRegex(source: string, wrap: (s: string) => string, what: string): RegExp {
  const risky = catastrophicBacktracking(source);
  if (risky)
    throw new ConfigError(`[peft] ${what} '${source}' has a part (${risky}) that can backtrack without limit.`, {
      hint: 'Use a list of module names, or a regex without repeated groups that repeat.',
    });
  try {
    return new RegExp(wrap(source));
  } catch (cause) {
    throw new ConfigError(`[peft] ${what} '${source}' is not a valid regular expression.`, { hint: 'Pass a list of module names, or a valid regex.', cause });
  }
}

/** PEFT's rule: a string is a regex matched against the whole name; a list matches a name or a dotted suffix of it. */
export function matchesSpec(name: string, spec: string | readonly string[]): boolean {
  if (typeof spec === 'string') return configRegex(spec, (s) => `^(?:${s})$`, 'target pattern').test(name);
  return spec.some((entry) => name === entry || name.endsWith(`.${entry}`));
}

/** The layer index of a module path: the first all-digit segment, or the one after layersPattern. */
function layerIndex(name: string, layersPattern: string | string[] | null): number | null {
  const parts = name.split('.');
  const patterns = layersPattern === null ? null : [layersPattern].flat();
  for (let i = 0; i < parts.length; i++) {
    if (!/^\d+$/.test(parts[i])) continue;
    if (!patterns || (i > 0 && patterns.includes(parts[i - 1]))) return Number(parts[i]);
  }
  return null;
}

export interface TargetSelection {
  target_modules: TargetSpec;
  exclude_modules?: TargetSpec;
  layers_to_transform?: number | number[] | null;
  layers_pattern?: string | string[] | null;
}

export function isLinearLike(m: Module): m is Linear | Conv1D {
  return m instanceof Linear || m instanceof Conv1D;
}

/**
 * Names of the modules a config targets in `model`. Throws when none matches, listing the
 * names that could have been meant.
 */
export function findTargets(model: Module, selection: TargetSelection, modelType: string, defaults: Record<string, readonly string[]>): string[] {
  const spec = selection.target_modules ?? (defaults[modelType] ? [...defaults[modelType]] : undefined);
  if (!spec)
    throw new ConfigError(`[peft] no target_modules given and no default for model_type '${modelType}'.`, {
      hint: 'Pass target_modules (module names such as ["q_proj", "v_proj"], a regex, or "all-linear").',
    });
  const layers = selection.layers_to_transform === undefined || selection.layers_to_transform === null ? null : [selection.layers_to_transform].flat();
  const out: string[] = [];
  for (const [name, module] of model.namedModules()) {
    if (!name) continue;
    const hit = spec === 'all-linear' ? isLinearLike(module) && !HEADS.test(name) : matchesSpec(name, spec);
    if (!hit) continue;
    if (selection.exclude_modules && matchesSpec(name, selection.exclude_modules)) continue;
    if (layers) {
      const index = layerIndex(name, selection.layers_pattern ?? null);
      if (index === null || !layers.includes(index)) continue;
    }
    out.push(name);
  }
  if (out.length === 0) {
    const leaves = [
      ...new Set(
        model
          .namedModules()
          .map(([n]) => n.split('.').pop()!)
          .filter((n) => n && !/^\d+$/.test(n)),
      ),
    ];
    throw new ConfigError(`[peft] target_modules ${JSON.stringify(spec)} match no module of this ${modelType} model.`, {
      hint: `Modules here are named: ${leaves.join(', ')}.`,
    });
  }
  return out;
}

/** PEFT's rank_pattern / alpha_pattern lookup: the first key that matches the end of the name (`(.*\.)?key$`). */
export function patternValue(name: string, pattern: Record<string, number>, fallback: number): number {
  for (const [key, value] of Object.entries(pattern)) {
    if (configRegex(key, (s) => `^(?:.*\\.)?(?:${s})$`, 'rank/alpha pattern').test(name)) return value;
  }
  return fallback;
}

/**
 * The bias parameters a method's `bias` option trains (LoRA, VeRA, FourierFT): none, every bias
 * in the model, or the biases of the adapted layers only (PEFT's 'lora_only', 'vera_only', ...).
 */
export function trainableBiases(model: Module, which: 'none' | 'all' | 'adapted', targets: readonly string[]): string[] {
  if (which === 'none') return [];
  const names = model
    .namedParameters()
    .map(([n]) => n)
    .filter((n) => n.endsWith('.bias'));
  return which === 'all' ? names : names.filter((n) => targets.some((t) => n === `${t}.base_layer.bias`));
}
