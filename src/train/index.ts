export { AdamW, SGD, clipGradNorm, lrMultiplier, type Optimizer, type OptimizerState, type Schedule, type ScheduleName } from './optim/index.js';
export { IGNORE, blocks, collate, encodePromptCompletion, epochBatches, type Batch, type Encoder, type LMExample } from './batching.js';
export { loadCheckpoint, saveCheckpoint, type TrainerState } from './checkpoint.js';
export { DEFAULT_TRAIN_CONFIG, TrainingError, evaluateLoss, trainLoop, type EvalEvent, type StepEvent, type TrainConfig, type TrainHooks, type TrainResult, type TrainTarget } from './trainer.js';
export { causalLMTarget, labelWordTarget, sequenceClassificationTarget } from './targets.js';
export { classificationLabels, encodeChoiceItems, encodeClassificationRecords, encodeRecords, type Encoded, type FieldMapping } from './data.js';
export { train, type TrainData, type TrainOptions, type TrainOutput } from './fine-tune.js';
