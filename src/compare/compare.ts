import { cpus } from 'node:os';
import { bundledTaskNames } from '../data/index.js';
import { ConfigError } from '../errors.js';
import { methodByName } from '../peft/index.js';
import { type CompareResults, leaderboards } from './analysis.js';
import { type CompareSettings, type Job, type JobResult, jobKey, planJobs } from './jobs.js';
import { runPool } from './pool.js';
import { runOnQueue } from './queue.js';
import { writeCompareReport } from './report.js';
import { ResultStore } from './store.js';

export interface CompareOptions {
  tasks: string[];
  /** PEFT method names, and 'icl' for in-context learning. */
  methods: string[];
  seeds: number;
  /** Training-set sizes; 0 = the whole train split. */
  sizes: number[];
  settings: CompareSettings;
  outDir: string;
  /** redis:// URL: run jobs through a BullMQ queue served by `peft-ts worker`s; else a local pool. */
  queue?: string;
  workers?: number;
  onLine?: (line: string) => void;
}

/**
 * Trains and scores every (task, method, seed, size), skipping jobs whose content-addressed
 * result exists, then writes the leaderboard (results.json, index.html) to `outDir/report`.
 */
export async function compare(options: CompareOptions): Promise<CompareResults> {
  for (const t of options.tasks) if (!bundledTaskNames().includes(t)) throw new ConfigError(`[compare] unknown task '${t}'.`, { hint: `Bundled tasks: ${bundledTaskNames().join(', ')}.` });
  for (const m of options.methods) {
    if (m === 'icl') continue;
    try {
      methodByName(options.settings.methods[m]?.method ?? m);
    } catch (cause) {
      const hint = cause instanceof ConfigError ? cause.hint : undefined;
      throw new ConfigError(`[compare] --methods: no method named '${m}'.`, {
        hint: `${hint ? `${hint} ` : ''}Also 'icl' (in-context learning), and any label defined in the config file's methods: block.`,
        cause,
      });
    }
  }
  if (!Number.isInteger(options.seeds) || options.seeds < 1) throw new ConfigError(`[compare] --seeds must be a positive integer, got ${options.seeds}.`, { hint: 'For example --seeds 3.' });
  const log = options.onLine ?? (() => {});
  const store = new ResultStore(options.outDir);
  const jobs = planJobs(options.tasks, options.methods, options.seeds, options.sizes);
  const results = new Map<string, JobResult>();
  const failures: { job: Job; error: string }[] = [];
  const todo: Job[] = [];
  for (const job of jobs) {
    const key = jobKey(job, options.settings);
    if (store.has(key)) results.set(key, store.get(key));
    else todo.push(job);
  }
  log(`${jobs.length} jobs: ${jobs.length - todo.length} already done, ${todo.length} to run${options.queue ? ` on ${options.queue}` : ''}`);
  let done = 0;
  const onResult = (r: JobResult) => {
    store.put(r);
    results.set(r.key, r);
    log(`[${++done}/${todo.length}] ${r.job.method} ${r.job.task} seed ${r.job.seed} size ${r.job.size || 'all'}: accuracy ${(100 * r.accuracy).toFixed(1)}%`);
  };
  const onFailure = (job: Job, error: Error) => {
    failures.push({ job, error: error.message });
    log(`[${++done}/${todo.length}] FAILED ${job.method} ${job.task} seed ${job.seed} size ${job.size || 'all'}: ${error.message}`);
  };
  if (options.queue) await runOnQueue(todo, options.settings, options.queue, { onResult, onFailure });
  else {
    const workers = options.workers ?? Math.max(1, cpus().length);
    await runPool(todo, options.settings, { workers, threads: Math.max(1, Math.floor(cpus().length / workers)), onResult, onFailure });
  }
  const report = leaderboards([...results.values()], failures, options.settings, options.seeds, options.sizes);
  writeCompareReport(report, `${options.outDir}/report`);
  return report;
}
