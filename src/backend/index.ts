export type { AttentionArgs, Backend, BinaryOpCode, F32, GemmArgs, GemmBf16Args, I32, Strided, UnaryOpCode } from './backend.js';
export { BinaryOp, UnaryOp } from './backend.js';
export { createBackend, getBackend, setBackend } from './select.js';
export { jsBackend } from './js/index.js';
