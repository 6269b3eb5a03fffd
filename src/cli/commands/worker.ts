import { runQueueWorker } from '../../compare/index.js';
import { defineCommand } from '../command.js';

/** Serves a compare queue until SIGINT/SIGTERM: any number of these, on any machine that has the model folder. */
export const workerCommand = defineCommand({
  name: 'worker',
  summary: 'serve a compare queue (BullMQ on Redis) from this machine',
  flags: {
    queue: { type: 'string', required: true, metavar: 'redis://HOST:PORT', help: 'the queue peft-ts compare --queue fills' },
    concurrency: { type: 'int', min: 1, default: 1, help: 'jobs run at once' },
    threads: { type: 'int', min: 0, default: 0, help: 'native threads per job; 0 for the default' },
    'lock-seconds': { type: 'number', min: 1, default: 30, help: 'job lock renewal period' },
  },
  async run(v, { out }) {
    const stop = new Promise<void>((resolve) => {
      process.once('SIGTERM', () => resolve());
      process.once('SIGINT', () => resolve());
    });
    out.note(`worker: serving ${v.queue}`);
    await runQueueWorker(v.queue, { concurrency: v.concurrency, threads: v.threads || undefined, lockMs: 1000 * v['lock-seconds'], onLine: (l) => out.note(l), stop });
  },
});
