import type { Module } from '../nn/index.js';
import type { Generator } from '../tensor/index.js';
import type { TargetSelection } from './targets.js';
import type { TunerLayer } from './tuner-layer.js';

/** The config fields shared code reads; each method's config has these plus its own. */
export interface MethodConfig extends TargetSelection {
  peft_type: string;
  task_type: string | null;
  modules_to_save: string[] | null;
  base_model_name_or_path: string | null;
  inference_mode: boolean;
}

/**
 * A PEFT method, as HF PEFT's tuner: how to read and write its config, and how to wrap a
 * targeted module for an adapter. Registered by peft_type in registry.ts.
 */
export interface PeftMethod<C extends MethodConfig = MethodConfig> {
  peftType: string;
  parseConfig(raw: Record<string, unknown>, warn?: (message: string) => void): C;
  configToJson(config: C): Record<string, unknown>;
  /**
   * Adds adapter `name` to the module at `path`: returns a new tuner layer wrapping it, or
   * adds to `module` when it already is this method's layer.
   */
  inject(module: Module, path: string, config: C, name: string, generator: Generator): TunerLayer;
  /** Base-model parameters the config makes trainable besides the adapter (e.g. LoRA's bias option). */
  extraTrainable?(model: Module, config: C, targets: string[]): string[];
}
