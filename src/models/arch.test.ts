import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { availableBackends, assertClose, fixturesDir } from '../../test/helpers.js';
import { setBackend } from '../backend/index.js';
import { loadSafetensors } from '../io/safetensors.js';
import { logSoftmax, noGrad, type Tensor } from '../tensor/index.js';
import { loadPretrained } from './load.js';
import type { CausalLM, SequenceClassifier } from './model.js';

/** Tolerances from test/fixtures/README.md. */
const LOGIT_ATOL = 1e-4,
  LOSS_ATOL = 1e-5;

/** The causal-LM checks every fixture supports: logits slice, logsumexp, target log-probs, loss. */
export function checkCausalLM(model: CausalLM, expected: Map<string, Tensor>, label: string): void {
  const ids = expected.get('input_ids')!;
  const [B, T] = ids.shape;
  const logits = noGrad(() => model.forward({ inputIds: ids }));
  const V = logits.shape[2];
  const slice = expected.get('logits_slice')!;
  const width = slice.shape[2];
  assertClose(logits.narrow(2, 0, width).contiguousData(), slice.contiguousData(), LOGIT_ATOL, 0, `${label} logits`);
  const logp = noGrad(() => logSoftmax(logits)).contiguousData();
  const lse = new Float32Array(B * T),
    targets = new Float32Array(B * (T - 1));
  const idData = ids.int32Data(),
    logitData = logits.contiguousData();
  let loss = 0;
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      lse[b * T + t] = logitData[(b * T + t) * V] - logp[(b * T + t) * V];
      if (t < T - 1) {
        targets[b * (T - 1) + t] = logp[(b * T + t) * V + idData[b * T + t + 1]];
        loss -= targets[b * (T - 1) + t];
      }
    }
  assertClose(lse, expected.get('logsumexp')!.contiguousData(), LOGIT_ATOL, 0, `${label} logsumexp`);
  assertClose(targets, expected.get('target_logprobs')!.contiguousData(), LOGIT_ATOL, 0, `${label} target logprobs`);
  assert.ok(Math.abs(loss / (B * (T - 1)) - expected.get('loss')!.item()) < LOSS_ATOL, `${label} loss ${loss / (B * (T - 1))} vs ${expected.get('loss')!.item()}`);
}

export function checkClassifier(model: SequenceClassifier, expected: Map<string, Tensor>, label: string): void {
  const logits = noGrad(() =>
    model.forward({
      inputIds: expected.get('input_ids')!,
      attentionMask: expected.get('attention_mask')!,
      tokenTypeIds: expected.get('token_type_ids')!,
    }),
  );
  assertClose(logits.contiguousData(), expected.get('logits')!.contiguousData(), 1e-4, 1e-4, `${label} logits`);
}

for (const backend of availableBackends()) {
  for (const name of ['gpt2-tiny', 'llama-tiny', 'qwen2-tiny']) {
    test(`[${backend.name}] ${name} matches the PyTorch reference`, () => {
      setBackend(backend);
      const { model, report } = loadPretrained(join(fixturesDir, name));
      assert.equal(model.task, 'causal-lm');
      assert.deepEqual(report.unexpected, []);
      checkCausalLM(model as CausalLM, loadSafetensors(join(fixturesDir, name, 'expected.safetensors')), name);
    });
  }
  test(`[${backend.name}] bert-tiny (padded batch, token types) matches the PyTorch reference`, () => {
    setBackend(backend);
    const { model } = loadPretrained(join(fixturesDir, 'bert-tiny'));
    assert.equal(model.task, 'sequence-classification');
    checkClassifier(model as SequenceClassifier, loadSafetensors(join(fixturesDir, 'bert-tiny', 'expected.safetensors')), 'bert-tiny');
  });
}
