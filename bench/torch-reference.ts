import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'bench', 'torch_lora_bench.py');

/** True when Debian's python3 with torch and the shared reference script are present. */
export function torchAvailable(): boolean {
  if (!existsSync(PYTHON) || !existsSync(SCRIPT)) return false;
  return spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

/** Runs ../shared/bench/torch_lora_bench.py and returns its final JSON line, or null when unavailable. */
export function torchBench(args: string[], threads: number): Record<string, number | string> | null {
  if (!torchAvailable()) return null;
  const r = spawnSync(PYTHON, [SCRIPT, '--threads', String(threads), ...args], { encoding: 'utf8', timeout: 15 * 60 * 1000 });
  const last = r.stdout?.trim().split('\n').pop();
  if (r.status !== 0 || !last) return null;
  return JSON.parse(last);
}

export const torchMissingNote = `PyTorch reference not run: install Debian's python3-torch (apt-get install -y python3-torch) to compare against ${SCRIPT}.`;
