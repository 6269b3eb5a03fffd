import { ConfigError } from '../../../errors.js';
import { LayerNorm, type Module, ModuleDict, RMSNorm } from '../../../nn/index.js';
import { copyInto, type Tensor } from '../../../tensor/index.js';
import { type ConfigSpec, targetFields } from '../../config.js';
import type { LayerMethod, TargetedConfig } from '../../method.js';
import { cloneModule } from '../../modules-to-save.js';
import { TunerLayer } from '../../tuner-layer.js';

type Norm = LayerNorm | RMSNorm;

/**
 * LN tuning (Zhao et al., 2023): each targeted norm gets a trained copy per adapter, used in its
 * place (HF PEFT's LNTuningLayer); saved as `<path>.ln_tuning_layers.weight` (and `.bias`).
 */
export class LnTuningLayer extends TunerLayer<Norm> {
  readonly effect = 'replaces the module';
  override readonly supportsMultipleActive = false;
  ln_tuning_layers = new ModuleDict<Norm>();
  /** The base norm's own values while an adapter is merged into it. */
  #original: Map<string, Float32Array> | null = null;

  addAdapter(name: string): void {
    this.ln_tuning_layers.items.set(name, cloneModule(this.base_layer).unfreeze());
  }

  adapterNames(): string[] {
    return [...this.ln_tuning_layers.items.keys()];
  }

  override adapterState(name: string): Map<string, Tensor> {
    return new Map(
      this.ln_tuning_layers.items
        .get(name)!
        .namedParametersWithDuplicates()
        .map(([k, t]) => [`ln_tuning_layers.${k}`, t]),
    );
  }

  protected removeAdapter(name: string): void {
    this.ln_tuning_layers.items.delete(name);
  }

  protected override forwardWith(x: Tensor, adapters: readonly string[]): Tensor {
    return this.ln_tuning_layers.items.get(adapters[0])!.forward(x);
  }

  protected override mergeAdapter(name: string): void {
    this.#original = new Map(this.base_layer.namedParameters().map(([k, t]) => [k, Float32Array.from(t.contiguousData())]));
    const tuned = new Map(this.ln_tuning_layers.items.get(name)!.namedParameters());
    for (const [k, t] of this.base_layer.namedParameters()) copyInto(t, tuned.get(k)!);
  }

  protected override unmergeAdapter(): void {
    for (const [k, t] of this.base_layer.namedParameters()) (t.data as Float32Array).set(this.#original!.get(k)!, t.offset);
    this.#original = null;
  }
}

const lnTuningConfigSpec: ConfigSpec<TargetedConfig> = {
  peftType: 'LN_TUNING',
  label: 'ln_tuning',
  fields: { target_modules: targetFields.target_modules, exclude_modules: targetFields.exclude_modules, modules_to_save: targetFields.modules_to_save },
};

/** HF PEFT's TRANSFORMERS_MODELS_TO_LNTUNING_TARGET_MODULES_MAPPING for the architectures peft-ts loads. */
const LN_TUNING_DEFAULT_TARGETS = {
  gpt2: ['ln_1', 'ln_2', 'ln_f'],
  llama: ['input_layernorm', 'post_attention_layernorm', 'norm'],
  mistral: ['input_layernorm', 'post_attention_layernorm', 'norm'],
  qwen2: ['input_layernorm', 'post_attention_layernorm', 'norm'],
  bert: ['LayerNorm'],
};

export const lnTuning: LayerMethod<TargetedConfig> = {
  kind: 'layer',
  name: 'ln-tuning',
  summary: 'trains a copy of each targeted LayerNorm/RMSNorm',
  effect: 'replaces the module',
  config: lnTuningConfigSpec,
  defaultTargets: LN_TUNING_DEFAULT_TARGETS,

  inject(module: Module, { adapter, path }) {
    const layer = module instanceof LnTuningLayer ? module : module instanceof LayerNorm || module instanceof RMSNorm ? new LnTuningLayer(module) : null;
    if (!layer)
      throw new ConfigError(`[ln_tuning] '${path}' is a ${module.constructor.name}; LN tuning adapts LayerNorm and RMSNorm modules.`, {
        hint: 'Target norm layers (e.g. input_layernorm, ln_1), or use exclude_modules.',
      });
    layer.addAdapter(adapter);
    return layer;
  },
};
