import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CheckpointError } from '../errors.js';
import { loadSafetensors, readHeader, readTextFile, saveSafetensors, sweepStaleTemps, tempName, writeTextAtomic } from '../io/index.js';
import { Tensor } from '../tensor/index.js';
import type { HookState } from '../peft/index.js';
import type { OptimizerState } from './optim/index.js';

/** What a resumed run needs beyond the weights: where it was, and the random streams' positions. */
export interface TrainerState {
  global_step: number;
  epoch: number;
  step_in_epoch: number;
  best_metric: number | null;
  best_step: number | null;
  evals_without_improvement: number;
  rng: { state: number; spareNormal: number | null };
  log_history: Record<string, number>[];
}

/**
 * Writes a checkpoint folder atomically: everything goes to a temporary sibling folder that is
 * renamed into place at the end, so a crash or full disk never leaves a half checkpoint.
 */
export function saveCheckpoint(dir: string, params: [string, Tensor][], optimizer: OptimizerState, state: TrainerState, writeUserFiles: (dir: string) => void): void {
  sweepStaleTemps(dirname(dir));
  const tmp = tempName(dirname(dir), process.pid, basename(dir));
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    writeUserFiles(tmp);
    saveSafetensors(join(tmp, 'trainable.safetensors'), new Map(params));
    const buffers = new Map<string, Tensor>();
    for (const [name, list] of Object.entries(optimizer.buffers)) list.forEach((b, i) => buffers.set(`${name}.${String(i).padStart(5, '0')}`, new Tensor(b, [b.length])));
    saveSafetensors(join(tmp, 'optimizer.safetensors'), buffers, { step: String(optimizer.step) });
    writeTextAtomic(join(tmp, 'trainer_state.json'), `${JSON.stringify(state, null, 2)}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (cause) {
    rmSync(tmp, { recursive: true, force: true });
    throw cause instanceof CheckpointError
      ? cause
      : new CheckpointError(`[checkpoint] could not write ${dir}.`, { hint: 'Check free disk space and permissions; the previous checkpoint is untouched.', cause });
  }
}

/** trainer_state.json, checked field by field: a corrupt one is a one-line error, not a resume from garbage. */
function readTrainerState(path: string): TrainerState {
  const bad = (what: string) =>
    new CheckpointError(`[checkpoint] ${path} ${what}.`, { hint: 'The checkpoint is damaged: resume from an earlier checkpoint-N folder, or start again without --resume.' });
  const text = readTextFile(path, (problem) => bad(problem));
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw bad('is not valid JSON');
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('is not a JSON object');
  const s = raw as Record<string, unknown>;
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  const finiteOrNull = (v: unknown) => v === null || (typeof v === 'number' && Number.isFinite(v));
  for (const key of ['global_step', 'epoch', 'step_in_epoch', 'evals_without_improvement']) if (!count(s[key])) throw bad(`has an invalid '${key}' (${JSON.stringify(s[key])})`);
  for (const key of ['best_metric', 'best_step']) if (!finiteOrNull(s[key] ?? null)) throw bad(`has an invalid '${key}' (${JSON.stringify(s[key])})`);
  const rng = s.rng as Record<string, unknown> | undefined;
  if (!rng || typeof rng !== 'object' || !Number.isSafeInteger(rng.state) || !finiteOrNull(rng.spareNormal ?? null)) throw bad(`has an invalid 'rng' (${JSON.stringify(s.rng)})`);
  if (!Array.isArray(s.log_history) || !s.log_history.every((e) => e && typeof e === 'object' && !Array.isArray(e))) throw bad("has an invalid 'log_history'");
  return { ...s, best_metric: s.best_metric ?? null, best_step: s.best_step ?? null, rng: { state: rng.state as number, spareNormal: (rng.spareNormal ?? null) as number | null } } as TrainerState;
}

export interface LoadedCheckpoint {
  params: Map<string, Tensor>;
  optimizer: OptimizerState;
  state: TrainerState;
}

export function loadCheckpoint(dir: string): LoadedCheckpoint {
  for (const f of ['trainable.safetensors', 'optimizer.safetensors', 'trainer_state.json']) {
    if (!existsSync(join(dir, f))) throw new CheckpointError(`[checkpoint] ${dir} has no ${f}.`, { hint: 'Resume from a checkpoint-N folder written by peft-ts train.' });
  }
  const raw = loadSafetensors(join(dir, 'optimizer.safetensors'));
  const buffers: Record<string, Float32Array[]> = {};
  for (const key of [...raw.keys()].sort()) {
    const name = key.slice(0, key.lastIndexOf('.'));
    buffers[name] ??= [];
    buffers[name].push(raw.get(key)!.contiguousData());
  }
  const state = readTrainerState(join(dir, 'trainer_state.json'));
  const step = Number(readHeader(join(dir, 'optimizer.safetensors')).metadata.step ?? state.global_step);
  return { params: loadSafetensors(join(dir, 'trainable.safetensors')), optimizer: { step, buffers }, state };
}

const METHOD_STATE = 'method_state.safetensors';

/** Writes an adapter method's resumable training state (PeftModel.trainingHooks().saveState()) into a checkpoint folder. */
export function saveMethodState(dir: string, state: HookState): void {
  saveSafetensors(join(dir, METHOD_STATE), state.tensors, { meta: JSON.stringify(state.meta) });
}

/** The method state a checkpoint holds, or null when it has none. */
export function loadMethodState(dir: string): HookState | null {
  const path = join(dir, METHOD_STATE);
  if (!existsSync(path)) return null;
  return { tensors: loadSafetensors(path), meta: JSON.parse(readHeader(path).metadata.meta ?? '{}') as Record<string, unknown> };
}
