import { join } from 'node:path';
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { ArgumentError, PeftTsError } from '../errors.js';
import { writeTextAtomic } from '../io/index.js';
import type { TrainingHooks } from '../peft/index.js';
import { defaultGenerator, noGrad, type Tensor } from '../tensor/index.js';
import { collate, epochBatches, type Batch, type LMExample } from './batching.js';
import { loadCheckpoint, loadMethodState, saveCheckpoint, saveMethodState, type TrainerState } from './checkpoint.js';
import { AdamW, clipGradNorm, gradNorm as globalGradNorm, lrMultiplier, SGD, validateSchedule, type Optimizer, type ScheduleName } from './optim/index.js';

/** Training stopped on a non-finite loss or gradient. */
export class TrainingError extends PeftTsError {
  constructor(message: string, hint: string) {
    super('E_TRAINING', message, { hint });
  }
}

/** What the trainer trains: a loss over a batch, the trainable parameters, and how to write the result. */
export interface TrainTarget {
  /** The loss summed over the batch's target positions; the trainer divides by the step's total. */
  lossSum(batch: Batch): Tensor;
  namedParameters(): [string, Tensor][];
  /** Writes the trained weights in their user-facing format (an adapter folder). */
  save(dir: string): void;
  train(mode: boolean): void;
  /** How examples become a batch (default: right-padded next-token targets). */
  collate?(examples: readonly LMExample[], padId: number): Batch;
  /** The adapter method's per-step hooks (PeftModel.trainingHooks()): an extra loss term, and work after each optimiser step. */
  methodHooks?: TrainingHooks;
}

export interface TrainConfig {
  epochs: number;
  /** Trains exactly this many optimiser steps when > 0, however many epochs that takes (transformers' max_steps overrides num_train_epochs). */
  maxSteps?: number;
  batchSize: number;
  gradAccumulation: number;
  lr: number;
  schedule: ScheduleName;
  warmupSteps: number;
  /** Warmup as a fraction of all steps, rounded up, when warmupSteps is 0 (transformers' warmup_ratio). */
  warmupRatio?: number;
  /** Write a metrics.jsonl entry (mean loss over the window) every N steps (transformers' logging_steps; default 1). */
  loggingSteps?: number;
  weightDecay: number;
  maxGradNorm: number | null;
  optimizer: 'adamw' | 'sgd';
  momentum: number;
  seed: number;
  groupByLength: boolean;
  /** Evaluate validation loss every N steps (0: at the end only). */
  evalEvery: number;
  /** Stop after this many evaluations without improvement (0: never). */
  earlyStoppingPatience: number;
  checkpointEvery: number;
  padId: number;
  outputDir?: string;
  resumeFrom?: string;
  /** Parameters (by name) with their own learning rate, scheduled like lr (DePT's low-rank pair). */
  learningRates?: Record<string, number>;
}

export const DEFAULT_TRAIN_CONFIG: Omit<TrainConfig, 'padId'> = {
  epochs: 1,
  batchSize: 8,
  gradAccumulation: 1,
  lr: 2e-4,
  schedule: 'linear',
  warmupSteps: 0,
  weightDecay: 0.0,
  maxGradNorm: 1.0,
  optimizer: 'adamw',
  momentum: 0.9,
  seed: 0,
  groupByLength: true,
  evalEvery: 0,
  earlyStoppingPatience: 0,
  checkpointEvery: 0,
};

export interface StepEvent {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokensPerSecond: number;
  elapsedSeconds: number;
}
export interface EvalEvent {
  step: number;
  evalLoss: number;
  best: boolean;
}

export interface TrainHooks {
  onStep?(e: StepEvent): void;
  onEval?(e: EvalEvent): void;
  onCheckpoint?(dir: string): void;
  /** Polled between steps; true saves a checkpoint and stops (Ctrl-C). */
  shouldStop?(): boolean;
}

export interface TrainResult {
  steps: number;
  losses: number[];
  finalLoss: number;
  bestEvalLoss: number | null;
  stoppedEarly: boolean;
  interrupted: boolean;
  seconds: number;
  tokensPerSecond: number;
  checkpoint: string | null;
}

/**
 * Gradient norms above this have squares beyond float32 (AdamW's second moment would be
 * infinite and the update silently zero): such a run has diverged even if no value is NaN yet.
 */
const MAX_GRAD_NORM = Math.sqrt(3.4028234663852886e38);

function allFinite(t: Tensor): boolean {
  const d = t.contiguousData();
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return false;
  return true;
}

function validate(c: TrainConfig): void {
  const positive = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`[train] ${name} must be a positive integer, got ${v}.`, `Set ${name} to 1 or more.`);
  };
  positive('batchSize', c.batchSize);
  positive('gradAccumulation', c.gradAccumulation);
  if (!(c.lr > 0) || !Number.isFinite(c.lr)) throw new ArgumentError(`[train] learning rate ${c.lr} must be a finite number > 0.`, 'Try 2e-4 for LoRA.');
  if (c.optimizer !== 'adamw' && c.optimizer !== 'sgd') throw new ArgumentError(`[train] optimizer '${c.optimizer as string}' is not available.`, "Use 'adamw' or 'sgd'.");
  if (c.maxGradNorm !== null && !(c.maxGradNorm > 0 && Number.isFinite(c.maxGradNorm)))
    throw new ArgumentError(`[train] maxGradNorm ${c.maxGradNorm} must be a finite number > 0 (or null for no clipping).`, 'Try 1.');
  if (!(c.epochs > 0) && !c.maxSteps) throw new ArgumentError('[train] set epochs > 0 or maxSteps.', 'E.g. epochs: 1.');
  validateSchedule({ name: c.schedule, warmupSteps: c.warmupSteps, totalSteps: 1 });
  if (c.warmupRatio !== undefined && !(c.warmupRatio >= 0 && c.warmupRatio < 1)) throw new ArgumentError(`[train] warmupRatio ${c.warmupRatio} must be in [0, 1).`, 'E.g. 0.03.');
  if (c.loggingSteps !== undefined) positive('loggingSteps', c.loggingSteps);
  if (!['adamw', 'sgd'].includes(c.optimizer)) throw new ArgumentError(`[train] optimizer '${c.optimizer}' is not available.`, 'Use adamw or sgd.');
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
}

/** Mean loss per target position over examples, without gradients. */
export function evaluateLoss(target: TrainTarget, examples: LMExample[], batchSize: number, padId: number): number {
  target.train(false);
  let sum = 0,
    count = 0;
  noGrad(() => {
    for (let i = 0; i < examples.length; i += batchSize) {
      const batch = (target.collate ?? collate)(examples.slice(i, i + batchSize), padId);
      sum += target.lossSum(batch).item();
      count += batch.targetCount;
    }
  });
  target.train(true);
  return sum / Math.max(count, 1);
}

/**
 * The training loop: seeded length-grouped batches, gradient accumulation normalised by the
 * step's total target count (so accumulation equals one big batch), clipping, a scheduled
 * learning rate, periodic evaluation with early stopping, and atomic checkpoints that resume
 * to the same losses as an uninterrupted run.
 */
export async function trainLoop(target: TrainTarget, data: { train: LMExample[]; validation?: LMExample[] }, config: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  validate(config);
  if (data.train.length === 0) throw new ArgumentError('[train] no training examples.', 'Check the data file and field mapping.');
  const named = target.namedParameters();
  if (named.length === 0) throw new ArgumentError('[train] the model has no trainable parameters.', 'Attach an adapter (e.g. --method lora) before training.');
  const params = named.map(([, t]) => t);
  const unknown = Object.keys(config.learningRates ?? {}).find((n) => !named.some(([m]) => m === n));
  if (unknown !== undefined) throw new ArgumentError(`[train] learningRates names '${unknown}', which is not a trainable parameter.`, 'Name trainable parameters only (see trainableParameters()).');
  const lrScales = named.map(([n]) => (config.learningRates?.[n] ?? config.lr) / config.lr);
  const optimizer: Optimizer =
    config.optimizer === 'sgd'
      ? new SGD(params, { lr: config.lr, momentum: config.momentum, weightDecay: config.weightDecay, lrScales })
      : new AdamW(params, { lr: config.lr, weightDecay: config.weightDecay, lrScales });
  const lengths = data.train.map((e) => e.inputIds.length);
  const microPerEpoch = Math.ceil(data.train.length / config.batchSize);
  const stepsPerEpoch = Math.ceil(microPerEpoch / config.gradAccumulation);
  const totalSteps = config.maxSteps && config.maxSteps > 0 ? config.maxSteps : Math.ceil(config.epochs * stepsPerEpoch);
  const warmupSteps = config.warmupSteps || Math.ceil((config.warmupRatio ?? 0) * totalSteps);
  const schedule = { name: config.schedule, warmupSteps, totalSteps };
  const loggingSteps = config.loggingSteps ?? 1;
  const logPath = config.outputDir ? join(config.outputDir, 'metrics.jsonl') : null;
  if (config.outputDir) mkdirSync(config.outputDir, { recursive: true });

  let state: TrainerState = {
    global_step: 0,
    epoch: 0,
    step_in_epoch: 0,
    best_metric: null,
    best_step: null,
    evals_without_improvement: 0,
    rng: defaultGenerator.getState(),
    log_history: [],
  };
  if (config.resumeFrom) {
    const ckpt = loadCheckpoint(config.resumeFrom);
    for (const [name, t] of named) {
      const saved = ckpt.params.get(name);
      if (!saved || saved.size !== t.size)
        throw new ArgumentError(`[train] checkpoint ${config.resumeFrom} does not hold '${name}' in this shape.`, 'Resume with the same model and adapter settings.');
      (t.data as Float32Array).set(saved.contiguousData(), t.offset);
    }
    optimizer.loadState(ckpt.optimizer);
    const methodState = loadMethodState(config.resumeFrom);
    if (methodState) target.methodHooks?.loadState?.(methodState);
    state = ckpt.state;
    defaultGenerator.setState(state.rng);
  }
  // A fresh run starts a new log; a resumed one continues from the checkpoint's own history, so
  // the steps after the checkpoint that are about to be redone are not logged twice.
  if (logPath) writeTextAtomic(logPath, state.log_history.map((e) => `${JSON.stringify(e)}\n`).join(''));

  const checkpoint = (): string | null => {
    if (!config.outputDir) return null;
    const dir = join(config.outputDir, `checkpoint-${state.global_step}`);
    state.rng = defaultGenerator.getState();
    const methodState = target.methodHooks?.saveState?.();
    saveCheckpoint(dir, named, optimizer.state(), state, (d) => {
      target.save(d);
      if (methodState) saveMethodState(d, methodState);
    });
    hooks.onCheckpoint?.(dir);
    return dir;
  };
  const log = (entry: Record<string, number>) => {
    state.log_history.push(entry);
    if (logPath) appendFileSync(logPath, `${JSON.stringify(entry)}\n`);
  };

  const losses: number[] = [];
  const started = performance.now();
  let tokens = 0,
    stoppedEarly = false,
    interrupted = false,
    lastCheckpoint: string | null = null;
  target.train(true);
  outer: while (state.global_step < totalSteps) {
    const batches = epochBatches(lengths, config.batchSize, config.seed, state.epoch, config.groupByLength);
    for (let s = state.step_in_epoch; s < stepsPerEpoch && state.global_step < totalSteps; s++) {
      const micro = batches.slice(s * config.gradAccumulation, (s + 1) * config.gradAccumulation).map((idx) =>
        (target.collate ?? collate)(
          idx.map((i) => data.train[i]),
          config.padId,
        ),
      );
      const totalTargets = micro.reduce((n, b) => n + b.targetCount, 0);
      let lossValue = 0;
      const counted = micro.filter((b) => b.targetCount > 0).length;
      for (const batch of micro) {
        if (batch.targetCount === 0) continue;
        // A method's extra term counts once per step: each micro-batch carries its share.
        const extra = target.methodHooks?.extraLoss?.();
        const loss = extra ? target.lossSum(batch).div(totalTargets).add(extra.div(counted)) : target.lossSum(batch).div(totalTargets);
        lossValue += loss.item();
        loss.backward();
        tokens += batch.tokens;
      }
      if (!Number.isFinite(lossValue)) diverged(`the loss became ${lossValue}`);
      const gradNorm = config.maxGradNorm ? clipGradNorm(params, config.maxGradNorm) : globalGradNorm(params);
      if (!(gradNorm <= MAX_GRAD_NORM)) diverged(`the gradient norm became ${gradNorm.toPrecision(3)}`);
      optimizer.lr = config.lr * lrMultiplier(schedule, state.global_step);
      optimizer.update();
      const broken = named.find(([, p]) => !allFinite(p));
      if (broken) diverged(`parameter '${broken[0]}' became non-finite after the update`);
      target.methodHooks?.afterStep?.(state.global_step);
      optimizer.zeroGrad();
      state.global_step++;
      state.step_in_epoch = s + 1;
      losses.push(lossValue);
      const elapsed = (performance.now() - started) / 1000;
      const event: StepEvent = {
        step: state.global_step,
        totalSteps,
        epoch: state.epoch + (s + 1) / stepsPerEpoch,
        loss: lossValue,
        lr: optimizer.lr,
        gradNorm,
        tokensPerSecond: tokens / elapsed,
        elapsedSeconds: elapsed,
      };
      if (state.global_step % loggingSteps === 0 || state.global_step === totalSteps) {
        const window = losses.slice(-(state.global_step % loggingSteps || loggingSteps));
        log({ step: event.step, epoch: event.epoch, loss: mean(window), learning_rate: optimizer.lr, grad_norm: gradNorm });
      }
      hooks.onStep?.(event);

      if (data.validation?.length && config.evalEvery && state.global_step % config.evalEvery === 0) {
        if (evaluateAndCheckStop()) {
          stoppedEarly = true;
          break outer;
        }
      }
      if (config.checkpointEvery && state.global_step % config.checkpointEvery === 0) lastCheckpoint = checkpoint();
      if (hooks.shouldStop?.()) {
        interrupted = true;
        lastCheckpoint = checkpoint();
        break outer;
      }
      await new Promise((resolve) => setImmediate(resolve)); // lets Ctrl-C and other events through
    }
    if (state.step_in_epoch >= stepsPerEpoch) {
      state.epoch++;
      state.step_in_epoch = 0;
    }
  }

  /** Stops a diverged run, saying truthfully which checkpoint (if any) holds good weights. */
  function diverged(what: string): never {
    const saved = lastCheckpoint && existsSync(lastCheckpoint) ? lastCheckpoint : null;
    const where = saved
      ? `the last checkpoint (${saved}) is intact`
      : config.resumeFrom
        ? `no checkpoint was written since the one resumed from (${config.resumeFrom}), which is intact`
        : 'no checkpoint was written, so nothing was saved';
    throw new TrainingError(
      `[train] ${what} at step ${state.global_step + 1}; training stopped.`,
      `Lower the learning rate (now ${config.lr})${config.maxGradNorm ? '' : ' or clip gradients (--max-grad-norm)'}; ${where}.`,
    );
  }

  function evaluateAndCheckStop(): boolean {
    const evalLoss = evaluateLoss(target, data.validation!, config.batchSize, config.padId);
    const best = state.best_metric === null || evalLoss < state.best_metric;
    if (best) {
      state.best_metric = evalLoss;
      state.best_step = state.global_step;
      state.evals_without_improvement = 0;
    } else state.evals_without_improvement++;
    log({ step: state.global_step, eval_loss: evalLoss });
    hooks.onEval?.({ step: state.global_step, evalLoss, best });
    return config.earlyStoppingPatience > 0 && state.evals_without_improvement >= config.earlyStoppingPatience;
  }

  if (!interrupted && !stoppedEarly && data.validation?.length && (!config.evalEvery || state.global_step % config.evalEvery !== 0)) evaluateAndCheckStop();
  if (!interrupted && config.outputDir) {
    target.save(config.outputDir);
    writeTextAtomic(join(config.outputDir, 'trainer_state.json'), `${JSON.stringify({ ...state, rng: defaultGenerator.getState() }, null, 2)}\n`);
  }
  target.train(false);
  const seconds = (performance.now() - started) / 1000;
  return {
    steps: state.global_step,
    losses,
    finalLoss: losses.length ? mean(losses.slice(-10)) : NaN,
    bestEvalLoss: state.best_metric,
    stoppedEarly,
    interrupted,
    seconds,
    tokensPerSecond: tokens / seconds,
    checkpoint: lastCheckpoint,
  };
}
