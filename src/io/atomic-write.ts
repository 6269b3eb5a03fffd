import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CheckpointError } from '../errors.js';

/**
 * Writes `chunks` to `path` through a temporary file in the same folder, fsynced and then
 * renamed over the target: a crash or a full disk leaves the old file whole, never half a file.
 */
export function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): void {
  const tmp = join(dirname(path), `.peft-ts-tmp-${process.pid}-${Date.now()}-${basename(path)}`);
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
    const hint = code === 'ENOSPC' ? 'The disk is full: free space and try again; the previous file is untouched.'
      : code === 'EACCES' || code === 'EROFS' ? 'The folder is not writable: choose another output folder.'
      : 'The previous file, if any, is untouched.';
    throw new CheckpointError(`[write] could not write ${path} (${code ?? 'error'}).`, { hint, cause });
  }
}

export function writeTextAtomic(path: string, text: string): void {
  writeFileAtomic(path, [Buffer.from(text, 'utf8')]);
}
