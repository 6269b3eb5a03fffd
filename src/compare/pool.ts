import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CompareSettings, Job, JobResult } from './jobs.js';

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));

/** Runs a job in a child process; resolves with its result, rejects with its last error line. */
export function runJobInChild(job: Job, settings: CompareSettings, options: { threads?: number; onLine?: (line: string) => void } = {}): Promise<JobResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...(options.threads ? { PEFT_TS_THREADS: String(options.threads) } : {}) };
    const child = spawn(process.execPath, [CHILD, JSON.stringify(settings), JSON.stringify(job)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      for (const line of d.toString().split('\n')) if (line.trim()) options.onLine?.(line.trim());
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) {
        try {
          resolve(JSON.parse(stdout.trim().split('\n').pop()!) as JobResult);
        } catch (cause) {
          reject(new Error(`the job printed no result (${(cause as Error).message})`));
        }
        return;
      }
      const last = stderr.trim().split('\n').filter(Boolean).pop() ?? '';
      reject(new Error(signal ? `killed by ${signal}` : `exit ${code}: ${last}`));
    });
  });
}

/** Runs jobs `workers` at a time; each failure is reported and loses that job only. */
export async function runPool(
  jobs: readonly Job[],
  settings: CompareSettings,
  options: {
    workers: number;
    threads: number;
    onResult: (r: JobResult) => void;
    onFailure: (job: Job, error: Error) => void;
    onLine?: (job: Job, line: string) => void;
  },
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      try {
        options.onResult(await runJobInChild(job, settings, { threads: options.threads, onLine: (l) => options.onLine?.(job, l) }));
      } catch (error) {
        options.onFailure(job, error as Error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.workers) }, worker));
}
