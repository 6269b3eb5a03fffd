export { Module, ModuleDict, ParameterDict } from './module.js';
export { Conv1D, Dropout, Embedding, LayerNorm, Linear, RMSNorm } from './layers.js';
export { KVCache, attendedKeysValues, prefixLength, type KVLayout, type KVPrefix } from './kv-cache.js';
export { additiveMask } from './masks.js';
export { fill_, kaimingUniform_, normal_, uniform_ } from './init.js';
export { castFrozenWeights, type WeightDType } from './cast.js';
