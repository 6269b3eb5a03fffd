import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertClose, fixturesDir } from '../../test/helpers.js';
import { noGrad, Tensor } from '../tensor/index.js';
import { DecoderForSequenceClassification, lastTokenIndices, loadPretrained, savePretrained, type CausalLM, type SequenceClassifier } from './index.js';

const PAD = 99;

/**
 * Oracle: with score.weight set to the LM head's rows for three token ids, a decoder classifier's
 * logits must equal the (PyTorch-checked) causal LM's logits for those ids at each row's last
 * non-pad token, for right- and left-padded rows alike.
 */
for (const fixture of ['gpt2-tiny', 'llama-tiny', 'qwen2-tiny']) {
  test(`${fixture} as ...ForSequenceClassification scores the last non-pad token, as transformers`, () => {
    const dir = join(fixturesDir, fixture);
    const lm = loadPretrained(dir).model as CausalLM;
    const classifier = loadPretrained(dir, { task: 'sequence-classification', numLabels: 3 }).model as SequenceClassifier;
    assert.ok(classifier instanceof DecoderForSequenceClassification);
    classifier.config.padTokenId = PAD;
    const ids = [5, 7, 9];
    const head = lm.stateDict().get('lm_head.weight')!.contiguousData();
    const H = lm.config.hiddenSize;
    const score = new Float32Array(ids.length * H);
    ids.forEach((id, k) => score.set(head.subarray(id * H, (id + 1) * H), k * H));
    (classifier as DecoderForSequenceClassification).score.weight = new Tensor(score, [ids.length, H]);
    const rows = [
      [1, 2, 3, 4, 6],
      [11, 12, 13, PAD, PAD],
      [PAD, PAD, 21, 22, 23],
    ];
    const mask = rows.map((r, b) => r.map((id, t) => (id === PAD && (b === 1 ? t >= 3 : t < 2) ? 0 : 1)));
    const input = { inputIds: Tensor.from(rows.flat(), [3, 5], 'int32'), attentionMask: Tensor.from(mask.flat(), [3, 5]) };
    assert.deepEqual(lastTokenIndices(input.inputIds, PAD), [4, 2, 4]);
    const lmLogits = noGrad(() => lm.forward(input)).contiguousData();
    const expected = [4, 2, 4].flatMap((t, b) => ids.map((id) => lmLogits[(b * 5 + t) * lm.config.vocabSize + id]));
    assertClose(noGrad(() => classifier.forward(input)).contiguousData(), expected, 1e-4, 1e-4, `${fixture} pooled logits`);
  });
}

test("a saved ...ForSequenceClassification checkpoint loads as one, with HF's score.weight", () => {
  const trained = loadPretrained(join(fixturesDir, 'qwen2-tiny'), { task: 'sequence-classification', numLabels: 4 }).model as SequenceClassifier;
  const dir = mkdtempSync(join(tmpdir(), 'peft-ts-seqcls-'));
  savePretrained(trained, dir);
  const { model, report } = loadPretrained(dir);
  assert.equal(model.task, 'sequence-classification');
  assert.deepEqual(model.config.raw.architectures, ['Qwen2ForSequenceClassification']);
  assert.deepEqual(report.initialised, []);
  const weight = (m: SequenceClassifier) => new Map(m.namedParameters()).get('score.weight')!;
  assert.deepEqual(weight(model as SequenceClassifier).shape, [4, trained.config.hiddenSize]);
  assert.deepEqual(weight(model as SequenceClassifier).contiguousData(), weight(trained).contiguousData());
});

test('a batch without pad_token_id is refused rather than pooled at a guessed position', () => {
  assert.throws(() => lastTokenIndices(Tensor.from([1, 2, 3, 4], [2, 2], 'int32'), undefined), /no pad_token_id/);
  assert.deepEqual(lastTokenIndices(Tensor.from([1, 2], [1, 2], 'int32'), undefined), [1]);
});
