import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend, setBackend } from '../src/backend/index.js';
import { loadPretrained, type PretrainedModel } from '../src/models/index.js';
import { listMethods, loadPeftModel } from '../src/peft/index.js';
import { assertMatchesFixture, expectedOf, fixtureLogits } from './fixtures.js';
import { availableBackends, fixturesDir } from './helpers.js';

/** One adapter written by the real HF PEFT 0.21 (fixtures/peft-zoo/zoo.json). */
export interface ZooFixture {
  fixture: string;
  base: string;
  peft_type: string;
  saved_keys: Record<string, number[]>;
  virtual_tokens_sliced: number;
  notes: string[];
}

/** The zoo fixtures of layer methods peft-ts implements: the list grows as methods are registered. */
export function layerZooFixtures(): ZooFixture[] {
  const zoo = JSON.parse(readFileSync(join(fixturesDir, 'peft-zoo', 'zoo.json'), 'utf8')) as { fixtures: ZooFixture[] };
  const layerTypes = new Set(listMethods().filter((m) => m.kind === 'layer').map((m) => m.config.peftType));
  return zoo.fixtures.filter((f) => layerTypes.has(f.peft_type) && f.virtual_tokens_sliced === 0);
}

/** One zoo fixture by folder name. */
export function zooFixture(name: string): ZooFixture {
  const zoo = JSON.parse(readFileSync(join(fixturesDir, 'peft-zoo', 'zoo.json'), 'utf8')) as { fixtures: ZooFixture[] };
  return zoo.fixtures.find((f) => f.fixture === name)!;
}

export const zooBase = (fixture: ZooFixture): PretrainedModel => loadPretrained(join(fixturesDir, fixture.base)).model;

/** The fixture loaded through loadPeftModel reproduces PyTorch's logits on every backend this machine runs (src/peft/zoo.test.ts checks the default one, with keys and counts). */
export function assertZooLogitsOnEveryBackend(fixture: ZooFixture): void {
  const folder = `peft-zoo/${fixture.fixture}`;
  const previous = getBackend();
  try {
    for (const backend of availableBackends()) {
      setBackend(backend);
      const peft = loadPeftModel(zooBase(fixture), join(fixturesDir, folder));
      assertMatchesFixture(fixtureLogits(peft.model.forward.bind(peft.model) as PretrainedModel['forward'], expectedOf(folder)), expectedOf(folder), `${folder} [${backend.name}]`);
    }
  } finally {
    setBackend(previous);
  }
}
