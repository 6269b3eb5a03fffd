import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CheckpointError } from '../errors.js';

/** Temporary files and folders of atomic writes are named `.peft-ts-tmp-<pid>-...`. */
export function tempName(dir: string, pid: number, name: string): string {
  return join(dir, `.peft-ts-tmp-${pid}-${Date.now()}-${name}`);
}
const TEMP = /^\.peft-ts-tmp-(\d+)-/;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by someone else
  }
}

/**
 * Removes the leftovers of atomic writes that were killed mid-way (a temp file of a process
 * that no longer runs) from `dir`; this process's own and live processes' temps are kept.
 */
export function sweepStaleTemps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // the folder does not exist yet: nothing to sweep
  }
  for (const name of names) {
    const pid = Number(TEMP.exec(name)?.[1]);
    if (pid && pid !== process.pid && !processAlive(pid)) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/**
 * Writes `chunks` to `path` through a temporary file in the same folder, fsynced and then
 * renamed over the target: a crash or a full disk leaves the old file whole, never half a file.
 */
export function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): void {
  sweepStaleTemps(dirname(path));
  const tmp = tempName(dirname(path), process.pid, basename(path));
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'w');
    for (const chunk of chunks) {
      let written = 0;
      while (written < chunk.byteLength) written += writeSync(fd, chunk, written, chunk.byteLength - written);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (cause) {
    if (fd !== null) closeSync(fd);
    rmSync(tmp, { force: true });
    const code = (cause as NodeJS.ErrnoException).code;
    const hint =
      code === 'ENOSPC'
        ? 'The disk is full: free space and try again; the previous file is untouched.'
        : code === 'EACCES' || code === 'EROFS'
          ? 'The folder is not writable: choose another output folder.'
          : 'The previous file, if any, is untouched.';
    throw new CheckpointError(`[write] could not write ${path} (${code ?? 'error'}).`, { hint, cause });
  }
}

export function writeTextAtomic(path: string, text: string): void {
  writeFileAtomic(path, [Buffer.from(text, 'utf8')]);
}
