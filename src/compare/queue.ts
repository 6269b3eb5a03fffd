import { Queue, Worker } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError } from '../errors.js';
import { type CompareSettings, type Job, type JobResult, jobKey } from './jobs.js';
import { runJobInChild } from './pool.js';

const QUEUE = 'peft-ts-compare';

interface QueuedJob {
  job: Job;
  settings: CompareSettings;
}

/** redis://[user:password@]host:port[/db] as ioredis options. */
export function redisConnection(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`[compare] --queue '${url}' is not a URL.`, { hint: 'Pass redis://host:port, e.g. redis://127.0.0.1:6379.' });
  }
  if (u.protocol !== 'redis:') throw new ConfigError(`[compare] --queue '${url}' is not a redis:// URL.`, { hint: 'Pass redis://host:port.' });
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    db: Number(u.pathname.slice(1) || 0),
    username: u.username || undefined,
    password: u.password || undefined,
    // BullMQ's workers block on Redis; a request must wait rather than fail.
    maxRetriesPerRequest: null,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Puts every job on the queue under its content address (a job already queued or done is not
 * added twice) and waits until each has a result or has failed for good.
 */
export async function runOnQueue(
  jobs: readonly Job[],
  settings: CompareSettings,
  url: string,
  options: {
    onResult: (r: JobResult) => void;
    onFailure: (job: Job, error: Error) => void;
    pollMs?: number;
    attempts?: number;
  },
): Promise<void> {
  // BullMQ under ESM takes a client instance, not connection options.
  const connection = new Redis(redisConnection(url));
  const queue = new Queue<QueuedJob, JobResult>(QUEUE, { connection });
  try {
    const pending = new Map<string, Job>();
    for (const job of jobs) {
      const key = jobKey(job, settings);
      pending.set(key, job);
      const existing = await queue.getJob(key);
      if (existing && (await existing.getState()) === 'failed') await existing.retry();
      else if (!existing) await queue.add('job', { job, settings }, { jobId: key, attempts: options.attempts ?? 3, removeOnComplete: false, removeOnFail: false });
    }
    while (pending.size) {
      for (const [key, job] of [...pending]) {
        const queued = await queue.getJob(key);
        const state = queued ? await queued.getState() : 'unknown';
        if (state === 'completed') {
          options.onResult(queued!.returnvalue);
          pending.delete(key);
        } else if (state === 'failed') {
          options.onFailure(job, new Error(queued!.failedReason));
          pending.delete(key);
        }
      }
      if (pending.size) await sleep(options.pollMs ?? 1000);
    }
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/**
 * A worker on any machine: takes jobs from the queue and runs each in a child process. If this
 * process dies mid-job, its lock lapses after `lockMs` and another worker runs the job again.
 */
export async function runQueueWorker(url: string, options: { concurrency?: number; threads?: number; lockMs?: number; onLine?: (line: string) => void; stop: Promise<void> }): Promise<void> {
  const lockMs = options.lockMs ?? 30_000;
  const connection = new Redis(redisConnection(url));
  const worker = new Worker<QueuedJob, JobResult>(
    QUEUE,
    async (queued) => {
      options.onLine?.(`job ${queued.id}: ${queued.data.job.method} on ${queued.data.job.task}, seed ${queued.data.job.seed}, size ${queued.data.job.size || 'all'}`);
      return runJobInChild(queued.data.job, queued.data.settings, { threads: options.threads, onLine: (l) => options.onLine?.(`  ${queued.id}: ${l}`) });
    },
    { connection, concurrency: options.concurrency ?? 1, lockDuration: lockMs, stalledInterval: lockMs, maxStalledCount: 2 },
  );
  worker.on('failed', (j, error) => options.onLine?.(`job ${j?.id} failed: ${error.message}`));
  worker.on('error', (error) => options.onLine?.(`queue error: ${error.message}`));
  await options.stop;
  await worker.close();
  connection.disconnect();
}
