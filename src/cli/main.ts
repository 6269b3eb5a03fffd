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
const COMMANDS: CommandSpec<any>[] = [trainCommand, evalCommand, infoCommand, generateCommand, forwardCommand, scoreCommand, mergeCommand, exportCommand, compareCommand, workerCommand, methodsCommand];

let stopRequested = false;

/** Exit codes: 0 done (and --help, --version), 2 usage errors, 1 every other peft-ts error, 70 bugs. */
export async function main(argv: string[], out: Output = consoleOutput): Promise<number> {
  const program = buildProgram(COMMANDS, packageVersion(), out, () => stopRequested);
  if (argv.length === 0) { out.note(program.helpInformation().trimEnd()); return 2; }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code) ? 0 : 2;
    const command = argv.find((a) => !a.startsWith('-')) ?? '';
    if (error instanceof PeftTsError) {
      out.note(`peft-ts ${command}: ${error.message}`);
      return error instanceof UsageError ? 2 : 1;
    }
    out.note(`peft-ts ${command}: internal error: ${(error as Error).stack ?? error}`);
    return 70;
  }
}

// `peft-ts train --help | head` closes stdout early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => { if (error.code === 'EPIPE') process.exit(0); else throw error; });

// First Ctrl-C: finish the step, write a checkpoint, exit. Second: exit at once.
process.on('SIGINT', () => {
  if (stopRequested) process.exit(130);
  stopRequested = true;
  process.stderr.write('\nstopping after this step (Ctrl-C again to quit now)...\n');
});
process.exitCode = await main(process.argv.slice(2));
