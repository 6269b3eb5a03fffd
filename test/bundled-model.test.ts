import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HFTokenizer, readHeader } from '../src/io/index.js';
import { loadPretrained, type CausalLM } from '../src/models/index.js';
import { lmScorer } from '../src/eval/index.js';
import { logSoftmax, noGrad, softmax, Tensor } from '../src/tensor/index.js';
import { encodeChoiceItems, labelWordTarget } from '../src/train/index.js';
import { repoRoot } from './helpers.js';

const dir = join(repoRoot, 'models', 'default');

test('the bundled model is a GPT-2 checkpoint in HF layout, under 30 MB, with its tokenizer', () => {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.deepEqual([config.model_type, config.architectures[0]], ['gpt2', 'GPT2LMHeadModel']);
  assert.ok(statSync(join(dir, 'model.safetensors')).size < 30 * 1024 * 1024);
  const keys = [...readHeader(join(dir, 'model.safetensors')).tensors.keys()];
  assert.ok(keys.includes('transformer.wte.weight') && keys.includes(`transformer.h.${config.n_layer - 1}.mlp.c_proj.weight`) && !keys.includes('lm_head.weight'));
  const tokenizer = HFTokenizer.fromDir(dir);
  const text = 'The Congress shall have power to lay and collect taxes.';
  assert.equal(tokenizer.decode(tokenizer.encode(text)), text);
  assert.equal(tokenizer.eosTokenId, config.eos_token_id);
  const { model } = loadPretrained(dir);
  const pre = JSON.parse(readFileSync(join(dir, 'pretraining.json'), 'utf8'));
  assert.equal(
    model.parameters().reduce((n, t) => n + t.size, 0),
    pre.parameters,
  );
});

test('the label-word loss is the cross-entropy among the label tokens the scorer ranks', () => {
  const model = loadPretrained(dir).model as CausalLM;
  const tokenizer = HFTokenizer.fromDir(dir);
  const items = [
    { id: 'a', prompt: 'Subject: meeting tomorrow\nQuestion: Is this email spam?\nAnswer:', choices: [' no', ' yes'], gold: 0 },
    { id: 'b', prompt: 'Subject: WIN $$$ NOW click here\nQuestion: Is this email spam?\nAnswer:', choices: [' no', ' yes'], gold: 1 },
  ];
  const labels = [' no', ' yes'].map((c) => tokenizer.encode(c, { addSpecialTokens: false })[0]);
  const target = labelWordTarget(model, labels, () => {});
  const batch = target.collate!(encodeChoiceItems(items, tokenizer, 64).examples, tokenizer.eosTokenId!);
  const loss = noGrad(() => target.lossSum(batch)).item();
  const scored = lmScorer(model, tokenizer).choiceLogLikelihoods(items.map((i) => ({ context: i.prompt, continuations: i.choices })));
  const expected = -scored.reduce((s, r, i) => s + Math.log(softmax(new Tensor(Float32Array.from(r.logliks), [2])).toArray()[items[i].gold]), 0);
  assert.ok(Math.abs(loss - expected) < 1e-4, `${loss} vs ${expected}`);
});

test("the scorer's log-likelihoods (LM head on the scored positions only) equal log-softmax of the full forward's logits", () => {
  const model = loadPretrained(dir).model as CausalLM;
  const tokenizer = HFTokenizer.fromDir(dir);
  const encode = (t: string) => tokenizer.encode(t, { addSpecialTokens: false });
  const V = model.config.vocabSize;
  /** log p(continuation | context) from the whole [T, vocab] logits of one unpadded row. */
  const direct = (context: string, continuation: string) => {
    const ctx = encode(context),
      cont = encode(continuation);
    const ids = [...ctx, ...cont];
    const logp = noGrad(() => logSoftmax(model.forward({ inputIds: new Tensor(Int32Array.from(ids), [1, ids.length]) }))).contiguousData();
    return cont.reduce((sum, id, i) => sum + logp[(ctx.length - 1 + i) * V + id], 0);
  };
  const requests = [
    { context: 'Subject: meeting tomorrow\nAnswer:', continuations: [' no', ' yes'] },
    { context: 'The Congress shall have', continuations: [' power to lay taxes', ' no power at all', ' it'] },
    { context: 'A short one', continuations: [' and a much longer continuation of several tokens', ' x'] },
  ];
  const scored = lmScorer(model, tokenizer, { batchSize: 2 }).choiceLogLikelihoods(requests);
  requests.forEach((q, i) =>
    q.continuations.forEach((c, j) => {
      const expected = direct(q.context, c);
      assert.ok(Math.abs(scored[i].logliks[j] - expected) < 1e-3, `${q.context} | ${c}: ${scored[i].logliks[j]} vs ${expected}`);
    }),
  );
  const text = 'We the People of the United States, in Order to form a more perfect Union.';
  const ids = [tokenizer.bosTokenId ?? tokenizer.eosTokenId!, ...encode(text)];
  const logp = noGrad(() => logSoftmax(model.forward({ inputIds: new Tensor(Int32Array.from(ids), [1, ids.length]) }))).contiguousData();
  const nll = -ids.slice(1).reduce((sum, id, t) => sum + logp[t * V + id], 0);
  const rolling = lmScorer(model, tokenizer).rollingNll(text);
  assert.equal(rolling.tokens, ids.length - 1);
  assert.ok(Math.abs(rolling.nll - nll) < 1e-3, `${rolling.nll} vs ${nll}`);
});
