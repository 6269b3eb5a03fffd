export { writeFileAtomic, writeTextAtomic } from './atomic-write.js';
export { decodeTensor, loadCheckpointFolder, loadSafetensors, parseHeader, readHeader, saveSafetensors, type IntDType, type SaveOptions, type SafetensorsHeader, type TensorInfo } from './safetensors.js';
export { HFTokenizer, type ChatMessage } from './tokenizer.js';
export { gpt2TokenizerConfig, gpt2TokenizerJson } from './gpt2-tokenizer.js';
