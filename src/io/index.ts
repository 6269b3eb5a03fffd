export { sweepStaleTemps, tempName, writeFileAtomic, writeTextAtomic } from './atomic-write.js';
export { openRegularFile, readTextFile, type FileProblem } from '../files.js';
export {
  decodeTensor,
  loadCheckpointFolder,
  loadSafetensors,
  parseHeader,
  readHeader,
  readShardIndex,
  saveSafetensors,
  type IntDType,
  type SaveOptions,
  type SafetensorsHeader,
  type TensorInfo,
} from './safetensors.js';
export { HFTokenizer, type ChatMessage } from './tokenizer.js';
export { catastrophicBacktracking } from './regex-safety.js';
export { gpt2TokenizerConfig, gpt2TokenizerJson } from './gpt2-tokenizer.js';
export { cachedModelDir, COMPANION_FILES, hubCacheDir, isHubId, resolveModelDir } from './hub.js';
export {
  GGUF_FLOAT_TYPES,
  gguf,
  loadGGUFTensors,
  parseGGUF,
  readGGUFHeader,
  writeGGUF,
  type GGUFFloatType,
  type GGUFHeader,
  type GGUFTensorInfo,
  type GGUFTensorToWrite,
  type GGUFValue,
} from './gguf.js';
