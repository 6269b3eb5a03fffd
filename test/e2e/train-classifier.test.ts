import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HFTokenizer, readHeader } from '../../src/io/index.js';
import { loadPretrained, type SequenceClassifier } from '../../src/models/index.js';
import { PeftModel } from '../../src/peft/index.js';
import { noGrad, Tensor } from '../../src/tensor/index.js';
import { withWordTokenizer, runCli, tempDir } from '../cli.js';

/** Texts whose label is whether they contain the word w7: learnable from any token. */
function records(n: number, label: (positive: boolean) => string | number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => {
    const positive = i % 2 === 0;
    const words = [`w${20 + (i % 40)}`, `w${60 + ((i * 3) % 40)}`, positive ? 'w7' : 'w8', `w${100 + (i % 13)}`].slice(0, 3 + (i % 2));
    return { review: words.join(' '), sentiment: label(positive) };
  });
}

/** Accuracy of a classifier with its adapter on records, batch of one (no pad id needed). */
function accuracy(model: SequenceClassifier, tokenizer: HFTokenizer, rows: Record<string, unknown>[], labels: string[]): number {
  let right = 0;
  for (const r of rows) {
    const ids = tokenizer.encode(String(r.review));
    const logits = noGrad(() => model.forward({ inputIds: Tensor.from(ids, [1, ids.length], 'int32') })).contiguousData();
    if (labels[logits[1] > logits[0] ? 1 : 0] === String(r.sentiment)) right++;
  }
  return right / rows.length;
}

for (const [fixture, head] of [
  ['gpt2-tiny', 'score'],
  ['bert-tiny', 'classifier'],
] as const) {
  test(`peft-ts train --task-type SEQ_CLS trains ${fixture}'s ${head} head through modules_to_save and an adapter that reloads`, () => {
    const dir = tempDir();
    const model = withWordTokenizer(fixture);
    const data = join(dir, 'train.csv');
    const rows = records(64, (p) => (p ? 'good' : 'bad'));
    // The data's own label names win over a checkpoint's generic LABEL_0/LABEL_1 (BERT's config has those).
    const names = ['bad', 'good'];
    writeFileSync(data, ['review,sentiment', ...rows.map((r) => `${r.review},${r.sentiment}`)].join('\n'));
    const out = join(dir, 'cls');
    const r = runCli(
      'train',
      '--model',
      model,
      '--task-type',
      'SEQ_CLS',
      '--data',
      data,
      '--text-field',
      'review',
      '--label-field',
      'sentiment',
      '--out',
      out,
      '--epochs',
      '12',
      '--batch-size',
      '8',
      '--lr',
      '0.02',
      '--r',
      '4',
      '--validation-fraction',
      '0',
      '--json',
    );
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.deepEqual(summary.labels, names);
    const config = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
    assert.equal(config.task_type, 'SEQ_CLS');
    assert.ok(config.modules_to_save.includes(head));
    const keys = [...readHeader(join(out, 'adapter_model.safetensors')).tensors.keys()];
    assert.ok(keys.includes(`base_model.model.${head}.weight`), keys.join(', '));

    const tokenizer = HFTokenizer.fromDir(model);
    const base = loadPretrained(model, { task: 'sequence-classification', numLabels: 2 }).model as SequenceClassifier;
    const peft = PeftModel.fromPretrained(base, out);
    const test = records(64, (p) => (p ? names[1] : names[0]));
    assert.ok(accuracy(peft.model, tokenizer, test, names) >= 0.9, 'the reloaded adapter classifies the rule it was trained on');
  });
}
