import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPretrained, type PretrainedModel } from '../src/models/index.js';
import { listMethods } from '../src/peft/index.js';
import { fixturesDir } from './helpers.js';

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
  const layerTypes = new Set(
    listMethods()
      .filter((m) => m.kind === 'layer')
      .map((m) => m.config.peftType),
  );
  return zoo.fixtures.filter((f) => layerTypes.has(f.peft_type) && f.virtual_tokens_sliced === 0);
}

/** The zoo fixtures of prompt-based (input) methods peft-ts implements. */
export function promptZooFixtures(): ZooFixture[] {
  const zoo = JSON.parse(readFileSync(join(fixturesDir, 'peft-zoo', 'zoo.json'), 'utf8')) as { fixtures: ZooFixture[] };
  const inputTypes = new Set(
    listMethods()
      .filter((m) => m.kind === 'input')
      .map((m) => m.config.peftType),
  );
  return zoo.fixtures.filter((f) => inputTypes.has(f.peft_type));
}

/** One zoo fixture by folder name, with where it lives. */
export function zooFixture(name: string): ZooFixture & { dir: string; folder: string } {
  const zoo = JSON.parse(readFileSync(join(fixturesDir, 'peft-zoo', 'zoo.json'), 'utf8')) as { fixtures: ZooFixture[] };
  const entry = zoo.fixtures.find((f) => f.fixture === name);
  if (!entry) throw new Error(`no peft-zoo fixture named ${name}`);
  return { ...entry, dir: join(fixturesDir, 'peft-zoo', name), folder: `peft-zoo/${name}` };
}

/** A fixture base model (gpt2-tiny, llama-tiny, ...), freshly loaded. */
export const loadBase = (name: string): PretrainedModel => loadPretrained(join(fixturesDir, name)).model;
