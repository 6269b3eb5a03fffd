/** peft-ts: parameter-efficient fine-tuning for TypeScript. The public API, folder by folder. */
export * from './errors.js';
export * from './dtype.js';
export { createBackend, getBackend, setBackend, type Backend } from './backend/index.js';
export * from './tensor/index.js';
export * from './nn/index.js';
export * from './io/index.js';
export * from './data/index.js';
export * from './models/index.js';
export * from './peft/index.js';
export * from './train/index.js';
export * from './eval/index.js';
export * from './compare/index.js';
