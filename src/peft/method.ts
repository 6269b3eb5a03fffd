import type { TokenModel } from '../models/index.js';
import type { IntDType } from '../io/index.js';
import type { Module } from '../nn/index.js';
import type { Generator, Tensor } from '../tensor/index.js';
import type { BaseConfig, ConfigSpec } from './config.js';
import type { PromptEncoder, PromptLearningConfig } from './prompt-learning.js';
import type { TargetSpec } from './targets.js';
import type { TunerEffect, TunerLayer } from './tuner-layer.js';

/**
 * The config of a method that adapts modules chosen by name. Only target_modules is in every
 * such method's file; the others exist where PEFT declares them (see config.ts targetFields).
 */
export type TargetedConfig = BaseConfig & {
  target_modules: TargetSpec;
  exclude_modules?: TargetSpec;
  layers_to_transform?: number | number[] | null;
  layers_pattern?: string | string[] | null;
  modules_to_save?: string[] | null;
};

/**
 * Adapter-wide tensors shared by every targeted layer (VeRA's projections, VB-LoRA's vector
 * bank), saved once as `base_model.<key>` when `saved`.
 */
export interface SharedTensor {
  tensor: Tensor;
  trainable: boolean;
  saved: boolean;
}

/** What `inject` is told about the module it adapts. */
export interface InjectContext<C> {
  config: C;
  adapter: string;
  /** The module's dotted path in the base model. */
  path: string;
  generator: Generator;
  /** This adapter's shared tensors, from `createShared`. */
  shared: Map<string, SharedTensor>;
  /** For a module from `tiedTargets`: the layer injected on the target whose weight it shares. */
  tiedTo?: TunerLayer;
}

/**
 * What a method does around each training step (AdaLoRA's rank budget): the trainer calls these
 * through PeftModel.trainingHooks() without knowing the method.
 */
export interface TrainingHooks {
  /** A term added to the loss of each optimiser step (AdaLoRA's orthogonality regulariser); recomputed per call. */
  extraLoss?(): Tensor;
  /**
   * Runs after the optimiser has updated the parameters and before their gradients are cleared;
   * `step` counts the steps done before this one (PEFT's global_step in update_and_allocate).
   */
  afterStep?(step: number): void;
  /** What a resumed run needs of the hooks (AdaLoRA's smoothed scores and allocation); written with each checkpoint. */
  saveState?(): HookState;
  loadState?(state: HookState): void;
}

/** A training hook's resumable state: named tensors and JSON. */
export interface HookState {
  tensors: Map<string, Tensor>;
  meta: Record<string, unknown>;
}

/** What `trainingHooks` is told: the adapter, its config (which the hooks may update, e.g. rank_pattern), and its layers. */
export interface TrainingContext<C> {
  adapter: string;
  config: C;
  layers: readonly [string, TunerLayer][];
}

/**
 * A method that wraps (or replaces) modules chosen by name: HF PEFT's layer tuners, and the
 * module-level ones (LN tuning, trainable tokens). One per folder under methods/, registered by
 * one line in registry.ts; shared code knows this interface, never a method.
 */
export interface LayerMethod<C extends TargetedConfig = TargetedConfig> {
  kind: 'layer';
  /** The CLI's name (`--method lora`), lower case with dashes. */
  name: string;
  summary: string;
  effect: TunerEffect;
  config: ConfigSpec<C>;
  /** Default target_modules per model_type, as HF PEFT's TRANSFORMERS_MODELS_TO_<METHOD>_TARGET_MODULES_MAPPING. */
  defaultTargets: Record<string, readonly string[]>;
  /** Fills fields PEFT derives from the model before the layers are made (LoRA's fan_in_fan_out, IA3's default feedforward_modules). */
  resolveConfig?(config: C, targets: readonly [string, Module][], modelType: string): void;
  /**
   * Modules adapted with the targets because they share a target's weight (an LM head tied to a
   * targeted embedding); injected after the targets, with `tiedTo` set.
   */
  tiedTargets?(model: Module, targets: readonly [string, Module][]): string[];
  /** Creates this adapter's shared tensors, once, before any layer. */
  createShared?(config: C, targets: readonly [string, Module][], generator: Generator): Map<string, SharedTensor>;
  /**
   * Adds adapter `ctx.adapter` to `module`: returns a new tuner layer wrapping it, or `module`
   * itself when it already is this method's layer.
   */
  inject(module: Module, ctx: InjectContext<C>): TunerLayer;
  /** Base-model parameters the config makes trainable besides the adapter (e.g. LoRA's bias option). */
  extraTrainable?(model: Module, config: C, targets: readonly string[]): string[];
  /** How the saved file stores integer tensors, where PEFT narrows them (VB-LoRA's top-k indices: U8 below 256 vectors). */
  savedIntDType?(config: C): IntDType;
  /** Per-step training behaviour beyond the loss's gradient (AdaLoRA's budget schedule); created once per training run. */
  trainingHooks?(ctx: TrainingContext<C>): TrainingHooks;
}

/** What `create` is given besides the config. */
export interface CreateContext {
  model: TokenModel;
  generator: Generator;
  /** The model's tokenizer, for initialisations from text (prompt tuning's TEXT); null when none was given. */
  tokenize: ((text: string) => number[]) | null;
}

/**
 * A method that changes the model input instead of wrapping layers (HF PEFT's prompt learning:
 * prompt tuning, p-tuning, prefix tuning): per adapter it creates a prompt encoder, which the
 * model's input tuner (prompt-learning.ts) runs in front of every forward. It wraps no module,
 * so it has no targets; it cannot merge, nor serve mixed batches (PEFT supports neither).
 */
export interface InputMethod<C extends PromptLearningConfig = any> {
  kind: 'input';
  name: string;
  summary: string;
  config: ConfigSpec<C>;
  /** Fills the fields PEFT derives from the model (token_dim, num_layers, num_attention_heads, ...) and checks they fit it. */
  resolveConfig(config: C, model: TokenModel): void;
  /** The adapter's prompt encoder, initialised as PEFT does (in inference mode: only what the saved file holds). */
  create(config: C, ctx: CreateContext): PromptEncoder;
}

/** Every kind of method: those that wrap layers, and those that change the model input. */
export type PeftMethod<C extends TargetedConfig = any> = LayerMethod<C> | InputMethod;

/** The config fields shared code reads, whatever the method (prompt-learning configs have no target fields: they read as absent). */
export type MethodConfig = TargetedConfig;
