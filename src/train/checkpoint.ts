import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CheckpointError } from '../errors.js';
import { loadSafetensors, readHeader, saveSafetensors, writeTextAtomic } from '../io/index.js';
import { Tensor } from '../tensor/index.js';
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
  const tmp = join(dirname(dir), `.peft-ts-tmp-${process.pid}-${basename(dir)}`);
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
    throw cause instanceof CheckpointError ? cause : new CheckpointError(`[checkpoint] could not write ${dir}.`, { hint: 'Check free disk space and permissions; the previous checkpoint is untouched.', cause });
  }
}

export interface LoadedCheckpoint { params: Map<string, Tensor>; optimizer: OptimizerState; state: TrainerState }

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
  const state = JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8')) as TrainerState;
  const step = Number(readHeader(join(dir, 'optimizer.safetensors')).metadata.step ?? state.global_step);
  return { params: loadSafetensors(join(dir, 'trainable.safetensors')), optimizer: { step, buffers }, state };
}
