import { runQueueWorker } from '../../compare/index.js';
import { numberFlag, parse, required } from '../args.js';
import type { Output } from '../output.js';

const USAGE = 'peft-ts worker --queue redis://host:port [--concurrency 1] [--threads N] [--lock-seconds 30]';

/** Serves a compare queue until SIGINT/SIGTERM: any number of these, on any machine that has the model folder. */
export async function workerCommand(argv: string[], out: Output): Promise<void> {
  const { values } = parse(argv, { queue: { type: 'string' }, concurrency: { type: 'string' }, threads: { type: 'string' }, 'lock-seconds': { type: 'string' } }, USAGE);
  const positive = (n: number) => Number.isInteger(n) && n >= 1;
  const stop = new Promise<void>((resolve) => { process.once('SIGTERM', () => resolve()); process.once('SIGINT', () => resolve()); });
  out.note(`worker: serving ${values.queue}`);
  await runQueueWorker(required(values.queue, '--queue', USAGE), {
    concurrency: numberFlag(values.concurrency, '--concurrency', 1, positive),
    threads: numberFlag(values.threads, '--threads', 0, (n) => Number.isInteger(n) && n >= 0) || undefined,
    lockMs: 1000 * numberFlag(values['lock-seconds'], '--lock-seconds', 30, (n) => Number.isFinite(n) && n >= 1),
    onLine: (l) => out.note(l), stop,
  });
}
