import { ArgumentError, ConfigError } from '../errors.js';
import type { ChatMessage, HFTokenizer } from '../io/index.js';
import type { Module } from '../nn/index.js';
import { generate, tokenShape, type CausalLMInput, type EncoderInput, type GenerateOptions, type PretrainedModel, type TunableModel } from '../models/index.js';
import { loadPeftModel, saveAdapters } from './adapter-io.js';
import { Generator, type Tensor } from '../tensor/index.js';
import { parseMethodConfig } from './config.js';
import type { HookState, InputMethod, LayerMethod, MethodConfig, PeftMethod, SharedTensor, TrainingHooks } from './method.js';
import { PromptLearning, type PromptLearningConfig } from './prompt-learning.js';
import { ModulesToSave } from './modules-to-save.js';
import { peftMethod, type PeftConfigInput } from './registry.js';
import { findTargets } from './targets.js';
import { isTunerLayer, type TunerLayer } from './tuner-layer.js';

/** PEFT's default heads to train with a SEQ_CLS adapter. */
const SEQ_CLS_HEADS = ['classifier', 'score'];

export interface TrainableReport {
  trainable: number;
  total: number;
  percent: number;
}

interface AdapterEntry {
  method: PeftMethod;
  config: MethodConfig;
  targets: string[];
  shared: Map<string, SharedTensor>;
}

/**
 * A base model with PEFT adapters injected in place (HF PEFT's PeftModel): targeted layers are
 * replaced by tuner layers, everything else is frozen. Several adapters can live side by side;
 * `activeAdapters` are summed in forward.
 */
export class PeftModel<M extends PretrainedModel = PretrainedModel> {
  readonly adapters = new Map<string, AdapterEntry>();
  activeAdapters: string[] = [];
  private readonly generator: Generator;
  private readonly tokenize: ((text: string) => number[]) | null;

  /** The model's tokenizer, for generate(text). */
  tokenizer?: HFTokenizer;

  /**
   * `tokenizer` serves generate(text); `tokenize` (or the tokenizer) is needed only by
   * initialisations from text (prompt tuning's TEXT).
   */
  constructor(
    readonly model: M,
    options: { seed?: number; tokenizer?: HFTokenizer; tokenize?: (text: string) => number[] } = {},
  ) {
    this.generator = new Generator(options.seed ?? 0);
    this.tokenizer = options.tokenizer;
    this.tokenize = options.tokenize ?? (options.tokenizer ? (text: string) => options.tokenizer!.encode(text) : null);
    model.freeze();
  }

  /** The model's input tuner, holding every prompt-based adapter (installed on first use). */
  private promptLearning(): PromptLearning {
    const model = this.model as unknown as TunableModel;
    if (!(model.input_tuner instanceof PromptLearning)) model.input_tuner = new PromptLearning();
    return model.input_tuner as PromptLearning;
  }

  private isInputAdapter(name: string): boolean {
    return this.adapters.get(name)?.method.kind === 'input';
  }

  /**
   * Parses `raw` (adapter_config.json fields; peft_type picks the method, LORA when absent) and
   * injects a new adapter; it becomes the only active one.
   */
  addAdapter(name: string, raw: PeftConfigInput): MethodConfig {
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new ArgumentError(`[peft] adapter name '${name}' must be letters, digits, '_' or '-'.`, "Use a name like 'default' or 'spam'.");
    if (this.adapters.has(name)) throw new ArgumentError(`[peft] an adapter named '${name}' already exists.`, 'Pick another name or delete it first.');
    const method = peftMethod(raw.peft_type ?? 'LORA');
    const config = parseMethodConfig(method.config, { ...(raw as Record<string, unknown>), peft_type: method.config.peftType });
    if (config.task_type === 'SEQ_CLS' && this.model.task === 'sequence-classification') {
      config.modules_to_save = [...new Set([...(config.modules_to_save ?? []), ...SEQ_CLS_HEADS])];
    }
    const { targets, shared } = method.kind === 'input' ? this.addInput(name, method, config as unknown as PromptLearningConfig) : this.injectLayers(name, method, config);
    for (const path of this.modulesToSavePaths(config)) {
      const current = this.model.getSubmodule(path);
      const wrapper = current instanceof ModulesToSave ? current : new ModulesToSave(current);
      wrapper.addAdapter(name);
      if (wrapper !== current) this.model.setSubmodule(path, wrapper);
    }
    this.adapters.set(name, { method, config, targets, shared });
    this.setAdapter(name);
    return config;
  }

  /** Wraps the layers a layer method targets; returns the targets and the adapter's shared tensors. */
  private injectLayers(name: string, method: LayerMethod, config: MethodConfig): { targets: string[]; shared: Map<string, SharedTensor> } {
    const targets = findTargets(this.model, config, this.model.config.modelType, method.defaultTargets);
    const modules = targets.map((path) => [path, this.model.getSubmodule(path)] as [string, Module]);
    method.resolveConfig?.(config, modules, this.model.config.modelType);
    const shared = method.createShared?.(config, modules, this.generator) ?? new Map<string, SharedTensor>();
    const injected: TunerLayer[] = [];
    for (const [path, module] of modules) {
      const layer = method.inject(module, { config, adapter: name, path, generator: this.generator, shared });
      if (layer !== module) this.model.setSubmodule(path, layer);
      injected.push(layer);
    }
    for (const path of method.tiedTargets?.(this.model, modules) ?? []) {
      const module = this.model.getSubmodule(path) as Module & { weight?: unknown };
      const tiedTo = injected.find((l) => (l.baseLayer() as Module & { weight?: unknown }).weight === module.weight);
      const layer = method.inject(module, { config, adapter: name, path, generator: this.generator, shared, tiedTo });
      if (layer !== module) this.model.setSubmodule(path, layer);
    }
    // PEFT writes the default it used (IA3's gpt2 default keeps 'mlp.c_proj', which a leaf name would widen).
    if (config.target_modules === null) config.target_modules = [...method.defaultTargets[this.model.config.modelType]];
    return { targets, shared };
  }

  /** Adds a prompt-based adapter's encoder to the model's input tuner. */
  private addInput(name: string, method: InputMethod, config: PromptLearningConfig): { targets: string[]; shared: Map<string, SharedTensor> } {
    method.resolveConfig(config, this.model);
    const encoder = method.create(config, { model: this.model, generator: this.generator, tokenize: this.tokenize });
    this.promptLearning().prompt_encoder.items.set(name, encoder);
    return { targets: [], shared: new Map() };
  }

  private modulesToSavePaths(config: MethodConfig): string[] {
    const wanted = config.modules_to_save ?? [];
    return this.model
      .namedModules()
      .map(([n]) => n)
      .filter((n) => n && !n.includes('.modules_to_save.') && !n.endsWith('.original_module') && wanted.some((w) => n === w || n.endsWith(`.${w}`)));
  }

  tunerLayers(): [string, TunerLayer][] {
    return this.model.namedModules().filter((e): e is [string, TunerLayer] => isTunerLayer(e[1]));
  }

  private wrappers(): [string, ModulesToSave][] {
    return this.model.namedModules().filter((e): e is [string, ModulesToSave] => e[1] instanceof ModulesToSave);
  }

  /** Makes `names` the active adapters: only their parameters train, and their outputs are summed. */
  setAdapter(names: string | string[]): void {
    const list = [names].flat();
    for (const n of list) if (!this.adapters.has(n)) throw new ArgumentError(`[peft] no adapter named '${n}'.`, `Adapters: ${this.listAdapters().join(', ') || 'none'}.`);
    const input = list.find((n) => this.isInputAdapter(n));
    if (input !== undefined && list.length > 1) {
      throw new ArgumentError(
        `[peft] the prompt-based adapter '${input}' cannot be active together with other adapters (${list.filter((n) => n !== input).join(', ')}).`,
        'Activate it alone, as PEFT does.',
      );
    }
    this.activeAdapters = list;
    const tuner = (this.model as unknown as TunableModel).input_tuner;
    if (tuner instanceof PromptLearning) tuner.active = input ?? null;
    for (const [, layer] of this.tunerLayers()) layer.active = list.filter((n) => layer.adapterNames().includes(n));
    for (const [, wrapper] of this.wrappers()) wrapper.active = list.find((n) => wrapper.modules_to_save.items.has(n)) ?? null;
    this.model.freeze();
    for (const [, layer] of this.tunerLayers()) for (const n of layer.active) for (const [, t] of layer.adapterState(n)) t.requiresGrad = true;
    for (const [, wrapper] of this.wrappers()) if (wrapper.active) wrapper.modules_to_save.items.get(wrapper.active)!.unfreeze();
    if (input !== undefined) this.promptLearning().encoder(input)!.unfreeze();
    for (const { shared } of this.adapters.values()) for (const s of shared.values()) s.tensor.requiresGrad = false;
    const params = new Map(this.model.namedParameters());
    for (const n of list) {
      const { method, config, targets, shared } = this.adapters.get(n)!;
      if (method.kind === 'layer') for (const paramName of method.extraTrainable?.(this.model, config, targets) ?? []) params.get(paramName)!.requiresGrad = true;
      for (const s of shared.values()) if (s.trainable) s.tensor.requiresGrad = true;
    }
  }

  listAdapters(): string[] {
    return [...this.adapters.keys()];
  }

  /** Parameters of adapter `name` (model parameter names) that its method trains with their own learning rate. */
  learningRates(name: string): Record<string, number> {
    const encoder = this.isInputAdapter(name) ? this.promptLearning().encoder(name)! : null;
    return Object.fromEntries([...(encoder?.learningRates() ?? [])].map(([k, lr]) => [`input_tuner.prompt_encoder.${name}.${k}`, lr]));
  }

  /**
   * The per-step training hooks of the active adapters' methods, combined (extra losses summed),
   * for a trainer that knows no method. Call once per training run: the hooks keep state.
   */
  trainingHooks(): TrainingHooks {
    const hooks = this.activeAdapters.flatMap((name) => {
      const { method, config } = this.adapters.get(name)!;
      const layers = this.tunerLayers().filter(([, l]) => l.adapterNames().includes(name));
      return method.kind === 'layer' && method.trainingHooks ? [[name, method.trainingHooks({ adapter: name, config, layers })] as const] : [];
    });
    const having = <K extends keyof TrainingHooks>(key: K) => hooks.filter(([, h]) => h[key]);
    const losses = having('extraLoss'),
      after = having('afterStep'),
      stateful = having('saveState');
    return {
      ...(losses.length ? { extraLoss: () => losses.map(([, h]) => h.extraLoss!()).reduce((a, b) => a.add(b)) } : {}),
      ...(after.length
        ? {
            afterStep: (step: number) => {
              for (const [, h] of after) h.afterStep!(step);
            },
          }
        : {}),
      ...(stateful.length
        ? {
            // Each adapter's state under its name: '<adapter>/<key>' tensors, meta[adapter].
            saveState: () => {
              const tensors = new Map<string, Tensor>(),
                meta: Record<string, unknown> = {};
              for (const [name, h] of stateful) {
                const s = h.saveState!();
                for (const [k, t] of s.tensors) tensors.set(`${name}/${k}`, t);
                meta[name] = s.meta;
              }
              return { tensors, meta };
            },
            loadState: (state: HookState) => {
              for (const [name, h] of stateful) {
                const tensors = new Map([...state.tensors].filter(([k]) => k.startsWith(`${name}/`)).map(([k, t]) => [k.slice(name.length + 1), t]));
                h.loadState?.({ tensors, meta: (state.meta[name] ?? {}) as Record<string, unknown> });
              }
            },
          }
        : {}),
    };
  }

  deleteAdapter(name: string): void {
    if (!this.adapters.delete(name)) throw new ArgumentError(`[peft] no adapter named '${name}'.`, `Adapters: ${this.listAdapters().join(', ') || 'none'}.`);
    // A layer left without adapters is its base module again, so another method can wrap it.
    for (const [path, layer] of this.tunerLayers()) {
      layer.deleteAdapter(name);
      if (layer.adapterNames().length === 0) this.model.setSubmodule(path, layer.baseLayer());
    }
    for (const [path, wrapper] of this.wrappers()) {
      wrapper.deleteAdapter(name);
      if (wrapper.modules_to_save.items.size === 0) this.model.setSubmodule(path, wrapper.original_module);
    }
    const tuner = (this.model as unknown as TunableModel).input_tuner;
    if (tuner instanceof PromptLearning) {
      tuner.prompt_encoder.items.delete(name);
      if (tuner.active === name) tuner.active = null;
    }
    this.activeAdapters = this.activeAdapters.filter((n) => n !== name);
  }

  /** Runs fn with every adapter switched off: the base model's output, exactly. */
  withAdaptersDisabled<T>(fn: () => T): T {
    const layers = this.tunerLayers().map(([, l]) => l);
    const wrappers = this.wrappers().map(([, w]) => [w, w.active] as const);
    if (layers.some((l) => l.mergedAdapters().length)) throw new ArgumentError('[peft] adapters are merged into the weights, so they cannot be disabled.', 'Call unmerge() first.');
    const tuner = (this.model as unknown as TunableModel).input_tuner;
    for (const l of layers) l.disabled = true;
    for (const [w] of wrappers) w.active = null;
    if (tuner instanceof PromptLearning) tuner.disabled = true;
    try {
      return fn();
    } finally {
      if (tuner instanceof PromptLearning) tuner.disabled = false;
      for (const l of layers) l.disabled = false;
      for (const [w, active] of wrappers) w.active = active;
    }
  }

  /**
   * Forward through the adapted model. With `adapterNames` (one per row, '__base__' for none),
   * each row of the batch uses its own adapter: a mixed batch.
   */
  forward(input: CausalLMInput & EncoderInput, options: { adapterNames?: readonly string[] } = {}): Tensor {
    const names = options.adapterNames;
    if (!names) return (this.model.forward as (i: CausalLMInput & EncoderInput) => Tensor)(input);
    const batch = tokenShape(input)[0];
    if (names.length !== batch) throw new ArgumentError(`[peft] ${names.length} adapter names for a batch of ${batch}.`, 'Name one adapter (or "__base__") per row.');
    for (const n of names)
      if (n !== '__base__' && !this.adapters.has(n)) throw new ArgumentError(`[peft] no adapter named '${n}' for the mixed batch.`, `Adapters: ${this.listAdapters().join(', ')}.`);
    const prompt = [...names, ...this.activeAdapters].find((n) => this.isInputAdapter(n));
    if (prompt !== undefined) throw new ArgumentError(`[peft] mixed batches are not supported with the prompt-based adapter '${prompt}' (nor are they in PEFT).`, 'Run each adapter on its own batch.');
    if (this.wrappers().length) throw new ArgumentError('[peft] mixed batches with modules_to_save heads are not supported.', 'Run each adapter separately.');
    const layers = this.tunerLayers().map(([, l]) => l);
    if (layers.some((l) => l.mergedAdapters().length)) throw new ArgumentError('[peft] mixed batches need unmerged adapters.', 'Call unmerge() first.');
    for (const l of layers) l.mixedBatch = names;
    try {
      return (this.model.forward as (i: CausalLMInput & EncoderInput) => Tensor)(input);
    } finally {
      for (const l of layers) l.mixedBatch = null;
    }
  }

  /** Folds the active adapters into the base weights (forward no longer adds them). */
  merge(names: string[] = this.activeAdapters): void {
    const input = names.find((n) => this.isInputAdapter(n));
    if (input !== undefined)
      throw new ArgumentError(`[peft] '${input}' is a prompt-based adapter: it adds virtual tokens, not weights, so it cannot be merged.`, 'Keep it as an adapter (load it with --adapter).');
    const layers = this.tunerLayers().filter(([, l]) => names.some((n) => l.adapterNames().includes(n)));
    const refusing = layers.find(([, l]) => !l.canMerge);
    if (refusing) throw new ArgumentError(`[peft] '${refusing[0]}' (${refusing[1].constructor.name}) cannot be merged into the base weights.`, 'Use the adapter unmerged.');
    for (const [, layer] of layers) layer.merge(names.filter((n) => layer.adapterNames().includes(n)));
  }

  unmerge(): void {
    for (const [, layer] of this.tunerLayers()) layer.unmerge();
  }

  /** Merges the active adapters and returns the base model with every tuner layer replaced by its base layer. */
  mergeAndUnload(): M {
    this.merge();
    for (const [path, layer] of this.tunerLayers()) this.model.setSubmodule(path, layer.baseLayer());
    for (const [path, wrapper] of this.wrappers()) {
      const keep = wrapper.active ? wrapper.modules_to_save.items.get(wrapper.active)! : wrapper.original_module;
      this.model.setSubmodule(path, keep);
    }
    this.adapters.clear();
    this.activeAdapters = [];
    return this.model;
  }

  /** Loads an adapter folder onto `model`, as PEFT's PeftModel.from_pretrained. */
  static fromPretrained<M extends PretrainedModel>(model: M, dir: string, options: { adapterName?: string; trainable?: boolean; tokenizer?: HFTokenizer } = {}): PeftModel<M> {
    const peft = loadPeftModel(model, dir, options);
    peft.tokenizer = options.tokenizer;
    return peft;
  }

  /** Writes every adapter in HF PEFT's layout ('default' in `dir`, others in subfolders), as PEFT's save_pretrained. */
  savePretrained(dir: string, options: { adapters?: string[]; baseModelNameOrPath?: string } = {}): string[] {
    return saveAdapters(this, dir, options);
  }

  /** PEFT's print_trainable_parameters line; also returned. */
  printTrainableParameters(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): string {
    const r = this.trainableParameters();
    const line = `trainable params: ${r.trainable.toLocaleString('en-US')} || all params: ${r.total.toLocaleString('en-US')} || trainable%: ${r.percent.toFixed(4)}`;
    write(line);
    return line;
  }

  /**
   * Continues a text, or answers chat messages through the tokenizer's chat template, with the
   * active adapters; returns the new text. Defaults come from the model's generation_config.json.
   */
  generate(input: string | ChatMessage[], options: GenerateOptions = {}): string {
    const tokenizer = this.tokenizer;
    if (!tokenizer) throw new ArgumentError('[generate] this PeftModel has no tokenizer.', 'Pass { tokenizer } when creating it, or set peft.tokenizer.');
    if (this.model.task !== 'causal-lm') throw new ArgumentError(`[generate] a ${this.model.task} model does not generate text.`, 'Use forward() for class logits.');
    const prompt = typeof input === 'string' ? input : tokenizer.applyChatTemplate(input, { addGenerationPrompt: true });
    // A chat template already carries the special tokens it wants.
    const ids = tokenizer.encode(prompt, { addSpecialTokens: typeof input === 'string' });
    const tokens = generate(this.model, [ids], { eosTokenId: this.model.config.generation?.eos_token_id === undefined ? tokenizer.eosTokenId : undefined, ...options })[0];
    return tokenizer.decode(tokens);
  }

  trainableParameters(): TrainableReport {
    const sharedTensors = [...this.adapters.values()].flatMap((a) => [...a.shared.values()].map((s) => s.tensor));
    const params = [...new Set([...this.model.parameters(), ...sharedTensors])];
    const total = params.reduce((n, t) => n + t.size, 0);
    const trainable = params.filter((t) => t.requiresGrad).reduce((n, t) => n + t.size, 0);
    return { trainable, total, percent: (100 * trainable) / total };
  }

  config(name = this.activeAdapters[0]): MethodConfig {
    const entry = this.adapters.get(name);
    if (!entry) throw new ConfigError(`[peft] no adapter named '${name}'.`, { hint: `Adapters: ${this.listAdapters().join(', ') || 'none'}.` });
    return entry.config;
  }

  /**
   * The adapter's tensors under HF PEFT's saved names (base_model.model.<path>.<local>): its
   * parameters, or with `form: 'saved'` the tensors as the file holds them (see TunerLayer.savedState).
   */
  adapterStateDict(name: string, form: 'parameters' | 'saved' = 'parameters'): Map<string, Tensor> {
    const entry = this.adapters.get(name);
    if (!entry) throw new ArgumentError(`[peft] no adapter named '${name}'.`, `Adapters: ${this.listAdapters().join(', ')}.`);
    const out = new Map<string, Tensor>();
    if (entry.method.kind === 'input') {
      // PEFT saves a prompt-learning adapter flat (prompt_embeddings) and its heads under base_model.<path>.
      for (const [k, t] of this.promptLearning().encoder(name)!.savedState()) out.set(k, t);
      for (const [path, wrapper] of this.wrappers()) for (const [k, t] of wrapper.adapterState(name)) out.set(`base_model.${path}.${k}`, t);
      return out;
    }
    for (const [path, layer] of this.tunerLayers()) {
      if (!layer.adapterNames().includes(name)) continue;
      const state = form === 'saved' && layer.savedState ? layer.savedState(name) : layer.adapterState(name);
      for (const [k, t] of state) out.set(`base_model.model.${path}.${k}`, t);
    }
    for (const [path, wrapper] of this.wrappers()) for (const [k, t] of wrapper.adapterState(name)) out.set(`base_model.model.${path}.${k}`, t);
    const params = new Map(this.model.namedParameters());
    if (entry.method.kind === 'layer') for (const n of entry.method.extraTrainable?.(this.model, entry.config, entry.targets) ?? []) out.set(`base_model.model.${n}`, params.get(n)!);
    for (const [key, s] of entry.shared) if (s.saved) out.set(`base_model.${key}`, s.tensor);
    return out;
  }
}

/** Wraps `model` with a new adapter, as HF PEFT's get_peft_model. */
export function getPeftModel<M extends PretrainedModel>(model: M, config: PeftConfigInput, options: { adapterName?: string; seed?: number; tokenizer?: HFTokenizer } = {}): PeftModel<M> {
  const peft = new PeftModel(model, { seed: options.seed, tokenizer: options.tokenizer });
  peft.addAdapter(options.adapterName ?? 'default', config);
  return peft;
}
