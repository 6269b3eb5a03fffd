import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gpt2WithWordTokenizer, tempDir } from '../../test/cli.js';
import { HFTokenizer, readHeader } from '../io/index.js';
import { generate, loadCausalLM, loadSequenceClassifier, loadTokenizer, type CausalLM } from '../models/index.js';
import { getPeftModel, parsePeftConfig, PeftModel, type PeftConfigInput } from '../peft/index.js';
import { train, type StepEvent } from './index.js';

const records = Array.from({ length: 16 }, (_, i) => ({ prompt: `w${i} w${i + 1}`, completion: ` w${(i * 7) % 50}` }));

test('train({ model, tokenizer, data, peft }) returns the adapted model and metrics, logging each step', async () => {
  const dir = gpt2WithWordTokenizer();
  const model: CausalLM = await loadCausalLM(dir);
  const tokenizer = await loadTokenizer(dir);
  const steps: StepEvent[] = [];
  const { model: peft, metrics } = await train({
    model,
    tokenizer,
    data: records,
    peft: { r: 4, lora_alpha: 8, target_modules: ['c_attn', 'c_proj'] },
    maxSteps: 3,
    batchSize: 4,
    lr: 1e-2,
    callbacks: { onStep: (e) => steps.push(e) },
  });
  assert.equal(metrics.steps, 3);
  assert.deepEqual(
    steps.map((e) => e.step),
    [1, 2, 3],
  );
  assert.ok(Number.isFinite(metrics.finalLoss));
  assert.deepEqual([...(peft.config().target_modules as string[])].sort(), ['c_attn', 'c_proj']);
  const out = tempDir('lib');
  peft.savePretrained(out);
  const config = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
  assert.deepEqual([config.r, config.lora_alpha, config.task_type, config.peft_version], [4, 8, 'CAUSAL_LM', '0.21.0']);
  // The adapter trained: reloaded onto a fresh base it changes the output as it did in memory.
  const reloaded = PeftModel.fromPretrained(await loadCausalLM(dir), out, { tokenizer });
  assert.equal(reloaded.generate('w3 w4', { maxNewTokens: 4 }), peft.generate('w3 w4', { maxNewTokens: 4 }));
});

test('peft.generate takes text or chat messages and returns text', async () => {
  const dir = gpt2WithWordTokenizer();
  writeFileSync(join(dir, 'chat_template.jinja'), '{% for m in messages %}{{ m.content }} {% endfor %}{% if add_generation_prompt %}w42{% endif %}');
  const tokenizer = await loadTokenizer(dir);
  const model = await loadCausalLM(dir);
  const peft = new PeftModel(model, { tokenizer });
  peft.addAdapter('default', { r: 2, init_lora_weights: false });
  const expected = (prompt: string) => tokenizer.decode(generate(model, [tokenizer.encode(prompt)], { maxNewTokens: 5, eosTokenId: tokenizer.eosTokenId })[0]);
  assert.equal(peft.generate('w5 w17', { maxNewTokens: 5 }), expected('w5 w17'));
  assert.equal(peft.generate([{ role: 'user', content: 'w5 w17' }], { maxNewTokens: 5 }), expected('w5 w17 w42'));
});

test("printTrainableParameters prints PEFT's line", async () => {
  const peft = new PeftModel(await loadCausalLM(gpt2WithWordTokenizer()));
  peft.addAdapter('default', { r: 4 });
  const lines: string[] = [];
  const line = peft.printTrainableParameters((l) => lines.push(l));
  const { trainable, total } = peft.trainableParameters();
  assert.deepEqual(lines, [line]);
  assert.equal(line, `trainable params: ${trainable.toLocaleString('en-US')} || all params: ${total.toLocaleString('en-US')} || trainable%: ${((100 * trainable) / total).toFixed(4)}`);
});

test('a misspelt LoRA field does not compile, and from JSON it is an error naming the nearest field', async () => {
  // @ts-expect-error lora_alhpa is not a LoRA field: the typed input refuses it at compile time.
  const typo: PeftConfigInput = { r: 8, lora_alhpa: 16 };
  const model0 = await loadCausalLM(gpt2WithWordTokenizer());
  // @ts-expect-error the same for getPeftModel's config.
  assert.throws(() => getPeftModel(model0, { lora_alhpa: 16 }), /Did you mean 'lora_alpha'/);
  assert.throws(() => parsePeftConfig(typo as Record<string, unknown>), /unknown config field 'lora_alhpa'\. Did you mean 'lora_alpha'\?/);
  assert.throws(() => getPeftModel(model0, JSON.parse('{"r": 4, "lora_alhpa": 16}')), /Did you mean 'lora_alpha'/);
  const dir = gpt2WithWordTokenizer();
  await assert.rejects(train({ model: await loadCausalLM(dir), tokenizer: HFTokenizer.fromDir(dir), data: records, peft: JSON.parse('{"lora_alhpa": 16}'), maxSteps: 1 }), /Did you mean 'lora_alpha'/);
});

test('a misspelt train() option is an error naming the nearest one', async () => {
  const dir = gpt2WithWordTokenizer();
  await assert.rejects(train({ model: await loadCausalLM(dir), tokenizer: HFTokenizer.fromDir(dir), data: records, ...JSON.parse('{"learningRate": 0.1}') }), /unknown option 'learningRate'/);
  await assert.rejects(train({ model: await loadCausalLM(dir), tokenizer: HFTokenizer.fromDir(dir), data: records, ...JSON.parse('{"epoch": 2}') }), /Did you mean 'epochs'\?/);
});

test('loadSequenceClassifier gives a typed classifier that train() fits through modules_to_save (a new score head on a causal LM checkpoint)', async () => {
  const dir = gpt2WithWordTokenizer();
  const classifier = await loadSequenceClassifier(dir, { numLabels: 3 });
  assert.equal(classifier.task, 'sequence-classification');
  assert.equal(classifier.config.numLabels, 3);
  const data = Array.from({ length: 12 }, (_, i) => ({ text: `w${i} w${i + 3}`, label: ['red', 'green', 'blue'][i % 3] }));
  const { model: peft, labels, metrics } = await train({ model: classifier, tokenizer: await loadTokenizer(dir), data, maxSteps: 2, batchSize: 4 });
  assert.deepEqual([labels, metrics.steps, peft.config().task_type], [['blue', 'green', 'red'], 2, 'SEQ_CLS']);
  const out = tempDir('cls');
  peft.savePretrained(out);
  assert.ok(readHeader(join(out, 'adapter_model.safetensors')).tensors.has('base_model.model.score.weight'));
  await assert.rejects(loadCausalLM(join(gpt2WithWordTokenizer(), 'absent')), /neither a folder nor a hub id|not in the hub cache/);
});
