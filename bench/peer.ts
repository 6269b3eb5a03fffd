import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './util.js';

/** The peer users pick: HF transformers + PEFT on PyTorch, run by ../shared/bench/hf_peft_bench.py. */
export const PEER_SCRIPT = join(repoRoot, '..', 'shared', 'bench', 'hf_peft_bench.py');
export type PeerPrecision = 'fp32' | 'bf16' | 'bf16w';
export const PEER_PRECISIONS: readonly PeerPrecision[] = ['fp32', 'bf16', 'bf16w'];

/** PEFT_TS_PEER_PY when it imports torch, transformers and peft; else null with the reason. */
export function peerPython(): { python: string | null; note: string } {
  const python = process.env.PEFT_TS_PEER_PY;
  if (!python)
    return { python: null, note: `peer not run: set PEFT_TS_PEER_PY to a Python with torch, transformers and peft (../shared/README.md says how to make one) to compare against ${PEER_SCRIPT}` };
  if (!existsSync(PEER_SCRIPT)) return { python: null, note: `peer not run: ${PEER_SCRIPT} is missing` };
  const probe = spawnSync(python, ['-c', 'import torch, transformers, peft'], { encoding: 'utf8' });
  if (probe.status !== 0) return { python: null, note: `peer not run: ${python} cannot import torch, transformers and peft (${(probe.stderr ?? '').trim().split('\n').pop()})` };
  return { python, note: `peer: ${python} ${PEER_SCRIPT}` };
}

/** One peer measurement: its JSON line, or null (with the error on stderr) when it failed. */
export function runPeer(python: string, mode: 'train' | 'forward' | 'generate', precision: PeerPrecision, threads: number): Record<string, number | string> | null {
  const r = spawnSync(python, [PEER_SCRIPT, '--mode', mode, '--precision', precision, '--threads', String(threads)], { encoding: 'utf8', timeout: 20 * 60 * 1000 });
  const last = r.stdout?.trim().split('\n').pop();
  if (r.status !== 0 || !last) {
    console.error(`peer ${mode} ${precision} failed: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
    return null;
  }
  return JSON.parse(last);
}
