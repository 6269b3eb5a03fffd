export { AdamW, SGD, clipGradNorm, lrMultiplier, type Optimizer, type OptimizerState, type Schedule, type ScheduleName } from './optim/index.js';
export { IGNORE, blocks, collate, encodePromptCompletion, epochBatches, type Batch, type Encoder, type LMExample } from './batching.js';
export { loadCheckpoint, saveCheckpoint, type TrainerState } from './checkpoint.js';
export { DEFAULT_TRAIN_CONFIG, TrainingError, evaluateLoss, train, type EvalEvent, type StepEvent, type TrainConfig, type TrainHooks, type TrainResult, type TrainTarget } from './trainer.js';
export { causalLMTarget, labelWordTarget } from './targets.js';
export { encodeChoiceItems, encodeRecords, type Encoded, type FieldMapping } from './data.js';
