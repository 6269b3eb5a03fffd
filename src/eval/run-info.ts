import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { packageVersion } from '../package.js';

/** One adapter under evaluation, as its folder describes it (files written by `peft-ts train`). */
export interface AdapterRun {
  name: string;
  path: string;
  /** adapter_config.json: the method (peft_type) and its settings. */
  config: Record<string, unknown> | null;
  /** Optimiser steps and epochs trained, from trainer_state.json. */
  steps: number | null;
  epochs: number | null;
  /** The training settings (data, seed, ...), from training_args.json. */
  training: Record<string, unknown> | null;
  /** Training loss per step, from metrics.jsonl (validation loss where it was measured). */
  loss: { step: number; loss: number; evalLoss?: number }[];
}

/** What a report's header says about the run: enough to redo it. */
export interface RunInfo {
  peftTsVersion: string;
  date: string;
  model: string;
  modelType: string | null;
  adapters: AdapterRun[];
  tasks: string[];
  limit: number | null;
  seed: number;
}

function readJson(path: string): Record<string, unknown> | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new ConfigError(`[report] ${path} is not valid JSON.`, { hint: "Fix or remove the file; the report reads it for the run's description.", cause });
  }
}

function readLossCurve(path: string): AdapterRun['loss'] {
  if (!existsSync(path)) return [];
  const curve: AdapterRun['loss'] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch (cause) {
        throw new ConfigError(`[report] ${path}:${i + 1}: not valid JSON.`, { hint: 'metrics.jsonl holds one JSON object a line, as peft-ts train writes it.', cause });
      }
      const step = entry.step,
        loss = entry.loss,
        evalLoss = entry.eval_loss;
      if (typeof step !== 'number') return;
      const last = curve.at(-1);
      // Validation lines share their step with the training line before them.
      if (typeof evalLoss === 'number' && last && last.step === step) last.evalLoss = evalLoss;
      else if (typeof loss === 'number') curve.push({ step, loss, ...(typeof evalLoss === 'number' ? { evalLoss } : {}) });
    });
  return curve;
}

/** Reads an adapter folder's description: its config, training state, settings and loss log, whichever exist. */
export function describeAdapter(name: string, path: string): AdapterRun {
  const state = readJson(join(path, 'trainer_state.json'));
  return {
    name,
    path: resolve(path),
    config: readJson(join(path, 'adapter_config.json')),
    steps: typeof state?.global_step === 'number' ? state.global_step : null,
    epochs: typeof state?.epoch === 'number' ? state.epoch : null,
    training: readJson(join(path, 'training_args.json')),
    loss: readLossCurve(join(path, 'metrics.jsonl')),
  };
}

/** The run's metadata for the report header: model, each adapter's method, config and training, the evaluation's data and seed, version and date. */
export function describeRun(options: { model: string; adapters: { name: string; path: string }[]; tasks: string[]; limit?: number; seed: number; date?: Date }): RunInfo {
  const config = readJson(join(options.model, 'config.json'));
  return {
    peftTsVersion: packageVersion(),
    date: (options.date ?? new Date()).toISOString(),
    model: resolve(options.model),
    modelType: typeof config?.model_type === 'string' ? config.model_type : null,
    adapters: options.adapters.map((a) => describeAdapter(a.name, a.path)),
    tasks: options.tasks,
    limit: options.limit ?? null,
    seed: options.seed,
  };
}
