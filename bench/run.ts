/**
 * `npm run bench [-- --json] [-- --demo]`: speed and memory figures, each beside the peer's
 * (HF transformers + PEFT, ../shared/bench/hf_peft_bench.py, when PEFT_TS_PEER_PY names a
 * Python that has them) measured in the same run. Every model figure comes from a fresh
 * process, ours and the peer's alike, so peak RSS is per measurement. --demo also times
 * `npm run demo` (minutes). Never asserted in tests: read them, and put them in the notes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createBackend, setBackend } from '../src/backend/index.js';
import { benchAttention, benchGemm } from './kernels.js';
import { benchLlamaCpp } from './llama-cpp.js';
import { PEER_PRECISIONS, peerPython, runPeer, type PeerPrecision } from './peer.js';
import { repoRoot, table } from './util.js';

const { values } = parseArgs({ options: { json: { type: 'boolean' }, demo: { type: 'boolean' } } });
const log = (line: string) => {
  if (!values.json) console.log(line);
  else console.error(line);
};

const backend = createBackend('native');
setBackend(backend);
const threads = backend.threads;
const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1].trim().split(/\s+/) ?? [];
const machine = {
  cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
  logical_cpus: availableParallelism(),
  threads,
  avx512_bf16: flags.includes('avx512_bf16'),
  amx_bf16: flags.includes('amx_bf16'),
  bf16_kernel: backend.bf16Kernel?.() ?? 'none',
  openblas_coretype: process.env.OPENBLAS_CORETYPE ?? null,
  node: process.version,
  load_average_start: loadavg().map((x) => +x.toFixed(2)),
};
log(`machine: ${JSON.stringify(machine)}`);

interface Entry {
  name: string;
  unit: string;
  higherIsBetter: boolean;
  peftTs: Record<string, number>;
  peer: Record<string, number> | null;
  /** Our best variant over the peer's best (for RSS: over the peer's figure at its fastest precision). */
  ratio: number | null;
}
const entries: Entry[] = [];
const best = (xs: Record<string, number>, higher: boolean) => Object.values(xs).reduce((a, b) => (higher ? Math.max(a, b) : Math.min(a, b)));
function add(name: string, unit: string, higherIsBetter: boolean, peftTs: Record<string, number>, peer: Record<string, number> | null, peerReference?: number): void {
  const theirs = peerReference ?? (peer && Object.keys(peer).length ? best(peer, higherIsBetter) : null);
  entries.push({ name, unit, higherIsBetter, peftTs, peer, ratio: theirs ? best(peftTs, higherIsBetter) / theirs : null });
  log(`${name}: peft-ts ${JSON.stringify(peftTs)}${peer ? ` peer ${JSON.stringify(peer)}` : ''}`);
}

/** One of our measurements in a fresh process (bench/measure.ts). */
function measure(mode: string, dtype: string, batch: number): Record<string, number> {
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'bench', 'measure.js'), mode, '--dtype', dtype, '--batch', String(batch)], { encoding: 'utf8', timeout: 20 * 60 * 1000 });
  if (r.status !== 0) throw new Error(`bench: measure ${mode} ${dtype} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

// ---- kernels, in this process ----
for (const g of benchGemm(backend)) add(`GEMM ${g.name}`, 'GFLOPS', true, { float32: g.float32, bfloat16: g.bfloat16 }, null);
const att = benchAttention();
add('attention B=4 H=12 T=128 D=64 causal, forward', 'ms', false, { float32: att.forwardMs }, null);
add('attention B=4 H=12 T=128 D=64 causal, forward+backward', 'ms', false, { float32: att.forwardBackwardMs }, null);

// ---- GPT-2 small (124M) beside the peer ----
const peerPy = peerPython();
log(peerPy.note);
const DTYPES = ['float32', 'bfloat16'];
const ours = (mode: string, batch: number) => Object.fromEntries(DTYPES.map((d) => [d, measure(mode, d, batch)]));
const theirs = (mode: 'train' | 'forward' | 'generate') =>
  peerPy.python
    ? (Object.fromEntries(PEER_PRECISIONS.map((p) => [p, runPeer(peerPy.python!, mode, p, threads)]).filter(([, r]) => r !== null)) as Record<PeerPrecision, Record<string, number>>)
    : null;
const pick = (rs: Record<string, Record<string, number>> | null, key: string) => (rs ? Object.fromEntries(Object.entries(rs).map(([k, r]) => [k, Number(r[key])])) : null);

const train = ours('train', 4),
  peerTrain = theirs('train');
add('LoRA training, GPT-2 small, batch 4 x 128, r=8 on c_attn', 'tokens/s', true, pick(train, 'tokens_per_s')!, pick(peerTrain, 'tokens_per_s'));
const peerFastest = peerTrain && Object.keys(peerTrain).length ? Object.values(peerTrain).reduce((a, b) => (Number(a.tokens_per_s) >= Number(b.tokens_per_s) ? a : b)) : null;
add(
  'peak RSS, LoRA training (vs the peer at its fastest precision)',
  'MB',
  false,
  pick(train, 'peak_rss_mb')!,
  pick(peerTrain, 'peak_rss_mb'),
  peerFastest ? Number(peerFastest.peak_rss_mb) : undefined,
);
add('forward, GPT-2 small + LoRA r=8 on c_attn (as the peer), batch 4 x 128', 'tokens/s', true, pick(ours('forward', 4), 'tokens_per_s')!, pick(theirs('forward'), 'tokens_per_s'));
add('greedy generation, GPT-2 small + LoRA r=8 on c_attn, batch 1, 32-token prompt, 64 new', 'tokens/s', true, pick(ours('generate', 1), 'tokens_per_s')!, pick(theirs('generate'), 'tokens_per_s'));
add('greedy generation, GPT-2 small + LoRA r=8 on c_attn, batch 8, 32-token prompts, 64 new', 'tokens/s', true, pick(ours('generate', 8), 'tokens_per_s')!, null);

// ---- the bundled model, alone and beside a competing process ----
const bundled = ours('bundled-train', 8);
add('LoRA training, bundled model (models/default), batch 8 x 128, r=16 all linear', 'tokens/s', true, pick(bundled, 'tokens_per_s')!, null);
const spinner = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
let shared: Record<string, number>;
try {
  shared = measure('bundled-train', 'float32', 8);
} finally {
  spinner.kill();
}
add('same, float32, while one busy process competes for the CPU (fair share on 2 cores: >= 0.5 of alone)', 'tokens/s', true, { float32: shared.tokens_per_s }, null, bundled.float32.tokens_per_s);

// ---- llama.cpp (node-llama-cpp) on the same weights exported as GGUF ----
log(`\n== llama.cpp on the exported GGUF ==\n${await benchLlamaCpp(threads)}`);

// ---- the demo ----
if (values.demo) {
  const started = performance.now();
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'scripts', 'demo.js'), '--out', join(tmpdir(), `peft-ts-demo-${process.pid}`)], { encoding: 'utf8', cwd: repoRoot });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) log(`demo failed: ${r.stderr}`);
  const accuracy = /LoRA[^\n]*?(\d+\.\d)%/.exec(r.stdout ?? '')?.[1];
  add(`demo wall time (npm run demo${accuracy ? `, LoRA accuracy ${accuracy}%` : ''})`, 's', false, { float32: seconds }, null);
}

const report = { machine: { ...machine, load_average_end: loadavg().map((x) => +x.toFixed(2)) }, peer: peerPy.note, entries };
if (values.json) console.log(JSON.stringify(report, null, 2));
else {
  const fmt = (xs: Record<string, number> | null) =>
    xs
      ? Object.entries(xs)
          .map(([k, v]) => `${k} ${v.toFixed(v >= 100 ? 0 : 1)}`)
          .join(', ')
      : '';
  console.log(
    '\n' + table([['figure', 'unit', 'peft-ts', 'peer', 'ours / peer (best of each)'], ...entries.map((e) => [e.name, e.unit, fmt(e.peftTs), fmt(e.peer), e.ratio ? `${e.ratio.toFixed(2)}x` : ''])]),
  );
  console.log(`load average at the end: ${report.machine.load_average_end.join(' ')}`);
}
