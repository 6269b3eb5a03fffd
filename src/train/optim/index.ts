export { Optimizer, type OptimizerState } from './optimizer.js';
export { AdamW, type AdamWOptions } from './adamw.js';
export { SGD, type SGDOptions } from './sgd.js';
export { lrMultiplier, validateSchedule, type Schedule, type ScheduleName } from './schedule.js';
export { clipGradNorm, gradNorm } from './clip.js';
