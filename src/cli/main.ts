#!/usr/bin/env node
import { PeftTsError } from '../errors.js';
import { UsageError } from './args.js';
import { compareCommand } from './commands/compare.js';
import { evalCommand } from './commands/eval.js';
import { forward } from './commands/forward.js';
import { generateCommand } from './commands/generate.js';
import { info } from './commands/info.js';
import { merge } from './commands/merge.js';
import { methodsCommand } from './commands/methods.js';
import { score } from './commands/score.js';
import { trainCommand } from './commands/train.js';
import { workerCommand } from './commands/worker.js';
import { consoleOutput, type Output } from './output.js';

let stopRequested = false;

const COMMANDS: Record<string, { run: (argv: string[], out: Output) => void | Promise<void>; summary: string }> = {
  train: { run: (argv, out) => trainCommand(argv, out, () => stopRequested), summary: 'fine-tune with any PEFT method on a data file or a bundled task; writes the adapter' },
  eval: { run: evalCommand, summary: 'score base and adapted models on the same items: paired deltas, intervals, calibration' },
  info: { run: info, summary: 'architecture, parameter count and stored dtypes of a model folder' },
  generate: { run: generateCommand, summary: 'continue a prompt (greedy, temperature, top-k, top-p)' },
  forward: { run: forward, summary: 'run input ids through a model and write the logits as safetensors' },
  score: { run: score, summary: 'per-token log-probabilities, mean NLL and perplexity of a text' },
  merge: { run: merge, summary: 'fold adapters into the base weights and write a full checkpoint' },
  compare: { run: compareCommand, summary: 'methods x seeds x training sizes on a task: a leaderboard with paired intervals (local pool or a Redis queue)' },
  worker: { run: workerCommand, summary: 'serve a compare queue (BullMQ on Redis) from this machine' },
  methods: { run: methodsCommand, summary: 'the PEFT methods peft-ts implements, with their config fields and defaults' },
};

function help(): string {
  return ['usage: peft-ts <command> [options]', '', ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`), '', 'Run a command with wrong or missing flags to see its usage.'].join('\n');
}

/** Exit codes: 2 for usage errors, 1 for every other peft-ts error, 70 for bugs. */
export async function main(argv: string[], out: Output = consoleOutput): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') { out.line(help()); return command ? 0 : 2; }
  const entry = COMMANDS[command];
  if (!entry) { out.note(`peft-ts: unknown command '${command}'.\n${help()}`); return 2; }
  try {
    await entry.run(rest, out);
    return 0;
  } catch (error) {
    if (error instanceof PeftTsError) {
      out.note(`peft-ts ${command}: ${error.message}`);
      return error instanceof UsageError ? 2 : 1;
    }
    out.note(`peft-ts ${command}: internal error: ${(error as Error).stack ?? error}`);
    return 70;
  }
}

// First Ctrl-C: finish the step, write a checkpoint, exit. Second: exit at once.
process.on('SIGINT', () => {
  if (stopRequested) process.exit(130);
  stopRequested = true;
  process.stderr.write('\nstopping after this step (Ctrl-C again to quit now)...\n');
});
process.exitCode = await main(process.argv.slice(2));
