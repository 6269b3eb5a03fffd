#!/usr/bin/env node
import { CommanderError } from 'commander';
import { PeftTsError } from '../errors.js';
import { packageVersion } from '../package.js';
import { buildProgram, UsageError, type CommandSpec } from './command.js';
import { compareCommand } from './commands/compare.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { forwardCommand } from './commands/forward.js';
import { generateCommand } from './commands/generate.js';
import { infoCommand } from './commands/info.js';
import { mergeCommand } from './commands/merge.js';
import { methodsCommand } from './commands/methods.js';
import { scoreCommand } from './commands/score.js';
import { trainCommand } from './commands/train.js';
import { workerCommand } from './commands/worker.js';
import { consoleOutput, type Output } from './output.js';

/** Every command: adding one is its file in commands/ and one line here. */
const COMMANDS: CommandSpec<any>[] = [
  trainCommand,
  evalCommand,
  infoCommand,
  generateCommand,
  forwardCommand,
  scoreCommand,
  mergeCommand,
  exportCommand,
  compareCommand,
  workerCommand,
  methodsCommand,
];

let stopRequested = false;

/** One line: a failure is reported as a single stderr line, whatever its message holds. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * Exit codes: 0 done (and --help, --version), 2 usage errors, 1 every other peft-ts error, 70
 * bugs. Each failure is one line on stderr; PEFT_TS_DEBUG=1 adds the stack trace.
 */
export async function main(argv: string[], out: Output = consoleOutput): Promise<number> {
  const program = buildProgram(COMMANDS, packageVersion(), out, () => stopRequested);
  if (argv.length === 0) {
    out.note(program.helpInformation().trimEnd());
    return 2;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code) ? 0 : 2;
    const command = argv.find((a) => !a.startsWith('-')) ?? '';
    const debug = process.env.PEFT_TS_DEBUG === '1';
    if (error instanceof PeftTsError) {
      out.note(`peft-ts ${command}: ${oneLine(error.message)}`);
      if (debug) out.note(String(error.stack));
      return error instanceof UsageError ? 2 : 1;
    }
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    out.note(`peft-ts ${command}: internal error: ${oneLine(message)}${debug ? '' : ' (set PEFT_TS_DEBUG=1 for the stack trace; please report it)'}`);
    if (debug) out.note(String((error as Error)?.stack ?? error));
    return 70;
  }
}

// Output piped into a reader that quits early (`peft-ts train --help | head`): stop quietly, as other CLI tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

// Anything thrown outside a command's own call chain (a timer, a stream) is still one line.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (error: unknown) => {
    const debug = process.env.PEFT_TS_DEBUG === '1';
    process.stderr.write(
      `peft-ts: internal error: ${oneLine(error instanceof Error ? `${error.name}: ${error.message}` : String(error))}${debug ? `\n${(error as Error)?.stack ?? ''}` : ' (set PEFT_TS_DEBUG=1 for the stack trace; please report it)'}\n`,
    );
    process.exit(70);
  });
}

// First Ctrl-C: finish the step, write a checkpoint, exit. Second: exit at once.
process.on('SIGINT', () => {
  if (stopRequested) process.exit(130);
  stopRequested = true;
  process.stderr.write('\nstopping after this step (Ctrl-C again to quit now)...\n');
});
process.exitCode = await main(process.argv.slice(2));
