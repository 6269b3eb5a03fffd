#!/usr/bin/env node
/**
 * One compare job in its own process, so a crash or an out-of-memory loses that job alone and
 * its peak memory is its own: `node child.js SETTINGS_JSON JOB_JSON`, the result as JSON on the
 * last line of stdout.
 */
import { runJob } from './run-job.js';

// Orphaned (the pool or queue worker that started it was killed): stop, the job is retried elsewhere.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(1);
}, 1000).unref();

const [settings, job] = process.argv.slice(2).map((a) => JSON.parse(a));
const result = await runJob(job, settings, (m) => process.stderr.write(`${m}\n`));
process.stdout.write(`${JSON.stringify(result)}\n`);
