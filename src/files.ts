import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import type { PeftTsError } from './errors.js';

/** Builds the caller's own error (its type and [area]) from what is wrong with the path. */
export type FileProblem = (problem: string, cause?: unknown) => PeftTsError;

/**
 * Opens a file for reading, refusing anything that is not a regular file. The open is
 * non-blocking, so a FIFO in place of a file is reported instead of waiting forever for a
 * writer; a directory is reported instead of failing later with EISDIR.
 */
export function openRegularFile(path: string, fail: FileProblem): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw fail(code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : `cannot be opened (${code ?? 'error'})`, cause);
  }
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    throw fail(stat.isDirectory() ? 'is a directory, not a file' : stat.isFIFO() ? 'is a pipe (FIFO), not a file' : 'is not a regular file');
  }
  return fd;
}

/** The whole text of a regular file (UTF-8). */
export function readTextFile(path: string, fail: FileProblem): string {
  const fd = openRegularFile(path, fail);
  try {
    return readFileSync(fd, 'utf8');
  } catch (cause) {
    throw fail(`could not be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, cause);
  } finally {
    closeSync(fd);
  }
}
