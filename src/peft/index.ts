export { PeftModel, getPeftModel, type TrainableReport } from './peft-model.js';
export { ADAPTER_CONFIG, ADAPTER_WEIGHTS, adapterDir, loadAdapter, loadPeftModel, readAdapterConfig, saveAdapters, sortedJson } from './adapter-io.js';
export type { MethodConfig, PeftMethod } from './method.js';
export { peftMethod } from './registry.js';
export { DEFAULT_LORA_TARGETS, findTargets, matchesSpec } from './targets.js';
export { TunerLayer, isTunerLayer } from './tuner-layer.js';
export { ModulesToSave } from './modules-to-save.js';
export { LoraLayer, addWeightedAdapter, parseLoraConfig, type CombinationType, type LoraConfig, type LoraInit, type WeightedAdapterOptions } from './methods/lora/index.js';
export { adapterToGGUF } from './gguf-adapter.js';
