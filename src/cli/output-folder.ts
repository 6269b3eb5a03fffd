import { readdirSync, statSync } from 'node:fs';
import { ArgumentError } from '../errors.js';

/**
 * Refuses an output folder whose files would be replaced without the user asking: a file in
 * its place always, a non-empty folder unless `replace` (--overwrite, or --resume for train).
 */
export function checkOutputFolder(dir: string, flag: string, replace: boolean): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    return; // not there yet: it will be created
  }
  if (!isDirectory) throw new ArgumentError(`[cli] ${flag} ${dir} is a file, not a folder.`, 'Choose a folder path; nothing was changed.');
  const entries = readdirSync(dir);
  if (entries.length && !replace) {
    throw new ArgumentError(
      `[cli] ${flag} ${dir} is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}).`,
      'Choose a new folder, or pass --overwrite to replace its files; nothing was changed.',
    );
  }
}
