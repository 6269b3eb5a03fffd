export type { ArchSpec, CausalLM, CausalLMInput, EncoderInput, ModelConfig, PretrainedModel, SequenceClassifier } from './model.js';
export { architecture, supportedModelTypes } from './registry.js';
export { buildModel, loadPretrained, parseConfig, readConfig, type LoadReport, type LoadDType, type LoadOptions, LOAD_DTYPES } from './load.js';
export { defaultPositions } from './positions.js';
export { generate, sampleToken, type GenerateOptions, type SamplingOptions } from './generate.js';
export { GPT2LMHeadModel, initGPT2, type GPT2Config } from './gpt2/index.js';
export { LlamaForCausalLM, type LlamaConfig } from './llama/index.js';
export { BertForSequenceClassification, type BertConfig } from './bert/index.js';
export { savePretrained } from './save.js';
