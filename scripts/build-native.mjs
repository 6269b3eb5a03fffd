// Builds the optional OpenBLAS addon. Never fails the install: without a compiler or
// OpenBLAS, peft-ts runs on its pure-TypeScript backend and says how to get the fast one.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const hint = 'install OpenBLAS and a C++ compiler (Debian: apt-get install -y libopenblas-dev g++ make python3), then run `npm rebuild peft-ts`';

function nodeGypScript() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  const require = createRequire(import.meta.url);
  for (const spec of ['node-gyp/bin/node-gyp.js', 'npm/node_modules/node-gyp/bin/node-gyp.js']) {
    try {
      return require.resolve(spec);
    } catch {
      /* try the next place */
    }
  }
  const npmDir = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  return existsSync(npmDir) ? npmDir : null;
}

if (process.env.PEFT_TS_SKIP_NATIVE === '1') {
  console.log('peft-ts: PEFT_TS_SKIP_NATIVE=1, not building the native backend.');
  process.exit(0);
}
const haveBlas = ['/usr/include/cblas.h', '/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/aarch64-linux-gnu/cblas.h', '/usr/include/openblas/cblas.h'].some(existsSync);
const gyp = nodeGypScript();
if (!haveBlas || !gyp) {
  console.warn(`peft-ts: native backend not built (${!haveBlas ? 'cblas.h not found' : 'node-gyp not found'}); using the TypeScript backend. For speed, ${hint}.`);
  process.exit(0);
}
// Node's own headers, when installed beside it, spare node-gyp a download (no network here).
const localHeaders = join(dirname(process.execPath), '..');
const nodedir = process.env.npm_config_nodedir || (existsSync(join(localHeaders, 'include', 'node', 'node_api.h')) ? localHeaders : null);
const args = [gyp, 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
if (result.status !== 0) {
  console.warn(`peft-ts: native backend build failed; using the TypeScript backend. For speed, ${hint}.`);
}
process.exit(0);
