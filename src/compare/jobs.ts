import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** What is trained and scored in one job. `base` and `icl` train nothing. */
export type JobKind = 'base' | 'icl' | 'adapter';

export interface Job {
  kind: JobKind;
  task: string;
  /** The PEFT method's CLI name for adapters; 'base' or 'icl' otherwise. */
  method: string;
  /** Seeds the training subset, its order, the adapter's initialisation and ICL's examples; 0 for base. */
  seed: number;
  /** Training examples drawn (seeded) from the task's train split; 0 = all; unused by base. */
  size: number;
}

/** Settings every job of a compare run shares (they are part of each job's identity). */
export interface CompareSettings {
  model: string;
  epochs: number;
  lr: number;
  batchSize: number;
  /** Held-out items scored per task (0 = all). */
  evalLimit: number;
  /** Held-out text documents scored for the cost elsewhere (bits per byte). */
  heldoutDocs: number;
  /**
   * Per method label: adapter_config.json fields and training overrides (lr, epochs); `method`
   * makes the label a variant of a registered method (e.g. dora: { method: lora, peft: { use_dora: true } }).
   */
  methods: Record<string, { method?: string; peft?: Record<string, unknown>; lr?: number; epochs?: number }>;
}

/** One scored item of one job: the same items, in the same order, for every job of a task. */
export interface ItemRecord {
  id: string;
  gold: number;
  pred: number;
  correct: number;
  probGold: number;
}

export interface JobResult {
  key: string;
  job: Job;
  items: ItemRecord[];
  accuracy: number;
  /** Bits per byte on held-out text: the cost elsewhere. */
  heldoutBitsPerByte: number;
  trainableParameters: number;
  trainSeconds: number;
  /** Peak resident memory of the job's process, MB. */
  peakRssMb: number;
  /** ICL only: the number of examples in the prompt. */
  shots?: number;
  finishedAt: string;
}

/** A fingerprint of the model folder: config and weight file sizes/times, cheap and enough to tell models apart. */
function modelFingerprint(dir: string): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(join(dir, 'config.json')));
  for (const f of ['model.safetensors', 'model.safetensors.index.json']) {
    try {
      const s = statSync(join(dir, f));
      hash.update(`${f}:${s.size}:${s.mtimeMs}`);
    } catch {
      /* absent: not part of this model */
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/** The job's content address: the job, the settings that shape its result, and the model. */
export function jobKey(job: Job, settings: CompareSettings): string {
  const relevant = {
    job,
    model: modelFingerprint(settings.model),
    epochs: settings.epochs,
    lr: settings.lr,
    batchSize: settings.batchSize,
    evalLimit: settings.evalLimit,
    heldoutDocs: settings.heldoutDocs,
    method: settings.methods[job.method] ?? null,
  };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 24);
}

/** Every job of a compare run: base once per task, ICL per seed, every method x seed x size. */
export function planJobs(tasks: readonly string[], methods: readonly string[], seeds: number, sizes: readonly number[]): Job[] {
  const jobs: Job[] = [];
  for (const task of tasks) {
    jobs.push({ kind: 'base', task, method: 'base', seed: 0, size: 0 });
    for (let seed = 1; seed <= seeds; seed++) {
      for (const method of methods) {
        if (method === 'icl') jobs.push({ kind: 'icl', task, method, seed, size: 0 });
        else for (const size of sizes) jobs.push({ kind: 'adapter', task, method, seed, size });
      }
    }
  }
  return jobs;
}
