import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { repoRoot } from './helpers.js';

/**
 * Dependencies point one way: backend <- tensor <- nn, io, data <- models <- peft <- train, eval <- compare <- cli.
 * A folder may import its own files and lower ranks; folders of equal rank never import each other.
 */
const RANK: Record<string, number> = {
  errors: 0,
  package: 0,
  dtype: 0.5,
  files: 0.5,
  backend: 1,
  tensor: 2,
  nn: 3,
  io: 3,
  data: 3,
  models: 4,
  peft: 5,
  train: 6,
  eval: 6,
  compare: 6.5,
  cli: 7,
  index: 8,
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.cases.ts') ? [p] : [];
  });
}

const area = (file: string, src: string) =>
  relative(src, file)
    .split(/[\\/]/)[0]
    .replace(/\.(ts|js)$/, '');

test('imports between src folders follow the dependency order', () => {
  const src = join(repoRoot, 'src');
  const violations: string[] = [];
  for (const file of files(src)) {
    const from = area(file, src);
    for (const m of readFileSync(file, 'utf8').matchAll(/^import[^'"]*['"](\.[^'"]+)['"]/gm)) {
      const target = resolve(dirname(file), m[1]);
      const to = area(target, src);
      if (to === from) continue;
      if (!(to in RANK) || !(from in RANK)) {
        violations.push(`${relative(src, file)} -> ${m[1]} (unknown folder)`);
        continue;
      }
      if (RANK[to] >= RANK[from]) violations.push(`${relative(src, file)} (${from}) imports ${to}`);
    }
  }
  assert.deepEqual(violations, []);
});
