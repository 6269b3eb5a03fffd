export { PeftModel, getPeftModel, type TrainableReport } from './peft-model.js';
export { ADAPTER_CONFIG, ADAPTER_WEIGHTS, adapterDir, loadAdapter, loadPeftModel, readAdapterConfig, saveAdapters, sortedJson } from './adapter-io.js';
export type { InjectContext, LayerMethod, MethodConfig, PeftMethod, SharedTensor, TargetedConfig, TrainingContext, TrainingHooks, HookState } from './method.js';
export {
  baseFields,
  configToJson,
  describeFields,
  didYouMean,
  f,
  parseMethodConfig,
  PEFT_FORMAT_VERSION,
  targetFields,
  TASK_TYPES,
  type BaseConfig,
  type ConfigSpec,
  type Field,
  type Infer,
  type Schema,
} from './config.js';
export { listMethods, methodByName, parsePeftConfig, peftMethod, type PeftConfigInput } from './registry.js';
export { findTargets, matchesSpec } from './targets.js';
export { TunerLayer, isTunerLayer, setWeightOutIn, weightOutIn, type TunerEffect } from './tuner-layer.js';
export { ModulesToSave } from './modules-to-save.js';
export { LORA_DEFAULT_TARGETS, LoraLayer, addWeightedAdapter, type CombinationType, type LoraConfig, type LoraInit, type WeightedAdapterOptions } from './methods/lora/index.js';
export { adapterToGGUF } from './gguf-adapter.js';
