import { ArgumentError } from '../errors.js';
import type { BundledTask } from './task.js';
import { sotuEraTask } from './tasks/sotu-era.js';
import { spamTask } from './tasks/spam.js';

export { DataError, field, readRecords, renderTemplate, type SourcedRecord } from './readers.js';
export { shuffled, validationSplit } from './split.js';
export { passages, type BundledTask, type ChoiceItem } from './task.js';
export { pretrainingCorpus, type Document } from './corpus.js';
export { emailText, spamPrompt, spamTask } from './tasks/spam.js';
export { sotuEraTask } from './tasks/sotu-era.js';

/** Bundled tasks by name: each is its own file and one line here. */
const TASKS: Record<string, () => BundledTask> = { spam: spamTask, 'sotu-era': sotuEraTask };

export function bundledTask(name: string): BundledTask {
  const make = TASKS[name];
  if (!make) throw new ArgumentError(`[data] no bundled task named '${name}'.`, `Bundled tasks: ${Object.keys(TASKS).join(', ')}.`);
  return make();
}

export function bundledTaskNames(): string[] { return Object.keys(TASKS); }
