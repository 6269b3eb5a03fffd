import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTextAtomic } from '../io/index.js';
import type { JobResult } from './jobs.js';

/**
 * Finished jobs, one file per content address under `<out>/jobs/`: a re-run skips what is there,
 * a crashed job leaves nothing half-written (writes are atomic), and a result arriving twice
 * (a retried job) overwrites itself with the same content.
 */
export class ResultStore {
  readonly dir: string;
  constructor(outDir: string) {
    this.dir = join(outDir, 'jobs');
    mkdirSync(this.dir, { recursive: true });
  }

  private path(key: string): string {
    return join(this.dir, `${key}.json`);
  }
  has(key: string): boolean {
    return existsSync(this.path(key));
  }
  get(key: string): JobResult {
    return JSON.parse(readFileSync(this.path(key), 'utf8')) as JobResult;
  }
  put(result: JobResult): void {
    writeTextAtomic(this.path(result.key), `${JSON.stringify(result)}\n`);
  }
  keys(): string[] {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5));
  }
}
