/** peft-ts: parameter-efficient fine-tuning for TypeScript. */
export * from './errors.js';
export * from './dtype.js';
export { createBackend, getBackend, setBackend, type Backend } from './backend/index.js';
export * from './tensor/index.js';
