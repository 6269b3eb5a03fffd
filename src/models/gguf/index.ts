export { ggufArch, permuteRows, tensorPlace, type GGUFArch, type TensorPlace } from './layout.js';
export { generalMetadata, modelToGGUF, storageType, toFileLayout, type TokenizerFiles } from './export.js';
export { loadGGUFModel } from './import.js';
export { tokenizerFromGGUF } from './vocab.js';
