import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fixturesDir, nativeAvailable, repoRoot } from './helpers.js';

interface PackageJson {
  version: string;
  license: string;
  engines: { node: string };
  dependencies: Record<string, string>;
}
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as PackageJson;

/** `npm pack` into a temporary folder: the tarball's path and the files npm put in it. */
function pack(): { tarball: string; files: string[]; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'peft-ts-pack-'));
  const r = spawnSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [info] = JSON.parse(r.stdout) as { filename: string; files: { path: string }[] }[];
  return { tarball: join(dir, info.filename), files: info.files.map((f) => f.path), dir };
}
const packed = pack();
after(() => rmSync(packed.dir, { recursive: true, force: true }));

test('the tarball carries the licence and no compiled tests', () => {
  assert.equal(pkg.license, 'Apache-2.0');
  assert.ok(packed.files.includes('LICENSE'), 'LICENSE is packed');
  assert.match(readFileSync(join(repoRoot, 'LICENSE'), 'utf8'), /^\s*Apache License\s+Version 2\.0, January 2004/);
  const testFiles = packed.files.filter((f) => /\.(test|cases)\.|^dist\/(test|bench|scripts)\//.test(f));
  assert.deepEqual(testFiles, [], 'tests and test-only case lists stay out of the package');
  assert.ok(packed.files.includes('dist/src/index.js') && packed.files.includes('dist/src/cli/main.js'));
});

test('every source map in the tarball resolves: its sources are inlined or packed', () => {
  const maps = packed.files.filter((f) => f.endsWith('.map'));
  assert.ok(maps.length > 0);
  const dangling: string[] = [];
  for (const file of maps) {
    const map = JSON.parse(readFileSync(join(repoRoot, file), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
    map.sources.forEach((source, i) => {
      const inlined = typeof map.sourcesContent?.[i] === 'string';
      if (!inlined && !packed.files.includes(posix.join(posix.dirname(file), source))) dangling.push(`${file} -> ${source}`);
    });
  }
  assert.deepEqual(dangling, []);
});

/** The lowest Node major a range like ">=20" or "^18 || ^20 || >= 21" admits. */
const floor = (range: string) => Math.min(...range.split('||').map((part) => Number(/(\d+)/.exec(part)![1])));

test('engines.node is true: this Node satisfies it, and no runtime dependency needs a newer one', () => {
  const ours = floor(pkg.engines.node);
  assert.ok(Number(process.versions.node.split('.')[0]) >= ours, `running on ${process.version}, engines says ${pkg.engines.node}`);
  for (const dep of Object.keys(pkg.dependencies)) {
    const theirs = (JSON.parse(readFileSync(join(repoRoot, 'node_modules', dep, 'package.json'), 'utf8')) as Partial<PackageJson>).engines?.node;
    if (theirs) assert.ok(floor(theirs) <= ours, `${dep} needs node ${theirs}, peft-ts states ${pkg.engines.node}`);
  }
});

/** The runtime dependencies, with theirs: what `npm install peft-ts` puts beside it (never the dev dependencies). */
function runtimeClosure(names: string[], seen = new Set<string>()): Set<string> {
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    const deps = (JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as Partial<PackageJson>).dependencies ?? {};
    runtimeClosure(Object.keys(deps), seen);
  }
  return seen;
}

test('the bundled tasks run from the installed package, without the dev dependency their data came from', () => {
  // Installed as npm would: the tarball unpacked in node_modules/peft-ts beside its runtime dependencies only.
  const project = join(packed.dir, 'project');
  const modules = join(project, 'node_modules');
  mkdirSync(join(modules, 'peft-ts'), { recursive: true });
  const tar = spawnSync('tar', ['xzf', packed.tarball, '-C', join(modules, 'peft-ts'), '--strip-components=1']);
  assert.equal(tar.status, 0, String(tar.stderr));
  for (const dep of runtimeClosure(Object.keys(pkg.dependencies))) {
    mkdirSync(dirname(join(modules, dep)), { recursive: true });
    symlinkSync(join(repoRoot, 'node_modules', dep), join(modules, dep), 'dir');
  }
  assert.ok(!existsSync(join(modules, '@stdlib')));
  const installed = join(modules, 'peft-ts');
  // The addon npm's install script would build here (speed only: the TypeScript backend gives the same answer).
  if (nativeAvailable()) {
    mkdirSync(join(installed, 'build', 'Release'), { recursive: true });
    copyFileSync(join(repoRoot, 'build', 'Release', 'peft_native.node'), join(installed, 'build', 'Release', 'peft_native.node'));
  }
  const r = spawnSync(
    process.execPath,
    [join(installed, 'dist', 'src', 'cli', 'main.js'), 'eval', '--model', join(installed, 'models', 'default'), '--tasks', 'spam,sotu-era', '--limit', '2', '--json'],
    { cwd: project, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { tasks: { name: string; n: number }[] };
  assert.deepEqual(
    result.tasks.map((t) => [t.name, t.n]),
    [
      ['spam', 2],
      ['sotu-era', 2],
    ],
  );
  // heldout-perplexity's documents are long to score; that they load from the package is what matters here.
  const docs = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(pathToFileURL(join(installed, 'dist', 'src', 'index.js')).href)}); console.log(m.bundledEvalTask('heldout-perplexity').items.length)`,
    ],
    { cwd: project, encoding: 'utf8' },
  );
  assert.equal(docs.status, 0, docs.stderr);
  assert.ok(Number(docs.stdout) > 50, docs.stdout);
});

test('the tests read their fixtures from inside the repository, so a plain clone tests', () => {
  assert.ok(fixturesDir.startsWith(repoRoot + sep) && existsSync(join(fixturesDir, 'README.md')), fixturesDir);
  const outside = spawnSync('git', ['grep', '-l', '-E', `["']shared["']`, '--', '*.test.ts', 'test/'], { cwd: repoRoot, encoding: 'utf8' }).stdout.trim();
  assert.equal(outside, '', 'tests that build a path into ../shared');
});
