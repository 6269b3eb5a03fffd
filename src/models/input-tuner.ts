import type { Module } from '../nn/index.js';
import { tokenShape } from './inputs.js';
import type { CausalLMInput, EncoderInput, TokenModel } from './model.js';

/** Any input a model takes. */
export type ModelInput = CausalLMInput & EncoderInput;

/**
 * Changes what a model runs on, as HF PEFT's prompt learning does: virtual token embeddings in
 * front of the input, or a key/value prefix, with the mask extended to match. PEFT installs it
 * as the model's `input_tuner`, so training, evaluation and generation all run through it.
 */
export interface InputTuner extends Module {
  /** Positions put in front of every input (0 when no adapter is active); they count against maxPositions. */
  virtualTokens(): number;
  /** The input the model runs instead. On a cached step (the cache is not empty) only the mask grows. */
  tune(input: ModelInput, model: TokenModel): ModelInput;
}

/** A model that may carry an input tuner. */
export interface TunableModel extends TokenModel {
  input_tuner?: InputTuner;
}

/** Positions the model's input tuner puts in front of every input. */
export function virtualTokensOf(model: TokenModel): number {
  return (model as TunableModel).input_tuner?.virtualTokens() ?? 0;
}

/**
 * The input a model runs: its tuner's when one is installed. Logits of positions the tuner put
 * in front are left out (logitsToKeep), so callers get one row per token they passed.
 */
export function tunedInput<I extends ModelInput>(model: TunableModel, input: I): I {
  const tuner = model.input_tuner;
  if (!tuner || tuner.virtualTokens() === 0) return input;
  const t = tokenShape(input)[1];
  return { ...tuner.tune(input, model), logitsToKeep: Math.min(input.logitsToKeep ?? t, t) } as I;
}
