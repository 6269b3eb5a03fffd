import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate, type Variant } from './harness.js';
import { argmaxNormalised, exactMatch, softmax, tokenF1 } from './metrics.js';
import type { Scorer } from './scorer.js';
import { loadTaskSpec, readTaskSpec, type EvalTask } from './tasks.js';
import { changeDirection, summaryText, writeReport } from './report.js';
import { newcombePairedInterval, wilsonInterval } from './stats.js';

const near = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('acc_norm divides log-likelihood by the choice length in bytes', () => {
  // raw log-likelihood prefers the short choice (-3 > -5); per byte -3/2 = -1.5 < -5/11 = -0.45, so acc_norm picks the long one
  assert.equal(argmaxNormalised([-3, -5], [' a', ' abcdefghij']), 1);
  // -0.5/2 = -0.25 > -0.45: the short one
  assert.equal(argmaxNormalised([-0.5, -5], [' a', ' abcdefghij']), 0);
  near(softmax([0, Math.log(3)])[1], 0.75);
});

test('exact match and token F1 follow SQuAD normalisation', () => {
  assert.equal(exactMatch('The  Paris!', ['paris']), 1);
  assert.equal(exactMatch('Paris, France', ['paris']), 0);
  near(tokenF1('the big red dog', ['a red dog']), (2 * (2 / 3) * 1) / (2 / 3 + 1));
  assert.equal(tokenF1('nothing alike', ['other words']), 0);
  assert.equal(tokenF1('', ['']), 1);
});

/** A scorer with fixed answers, so metrics can be checked by hand. */
function fakeScorer(table: Record<string, number[]>, nll: Record<string, [number, number]> = {}, generations: Record<string, string> = {}): Scorer {
  return {
    choiceLogLikelihoods: (reqs) => reqs.map((q) => ({ logliks: table[q.context], tokens: q.continuations.map(() => 1) })),
    rollingNll: (text) => ({ nll: nll[text][0], tokens: nll[text][1] }),
    generateUntil: (context) => generations[context],
  };
}

test('the harness scores every variant on the same items and pairs the change', () => {
  const task: EvalTask = {
    name: 't',
    outputType: 'classification',
    until: [],
    maxGenTokens: 0,
    description: 't',
    items: ['a', 'b', 'c', 'd'].map((c, i) => ({ id: c, context: c, choices: [' no', ' yes'], gold: i % 2 })),
  };
  // base: right on a, c (gold 0) only; adapted: right on all but a
  const tables: Record<string, Record<string, number[]>> = {
    base: { a: [-1, -2], b: [-1, -2], c: [-1, -3], d: [-1, -2] },
    adapted: { a: [-2, -1], b: [-2, -1], c: [-1, -2], d: [-2, -1] },
  };
  let active = 'base';
  const variants: Variant[] = ['base', 'adapted'].map((name) => ({
    name,
    run: (fn) => {
      active = name;
      return fn();
    },
  }));
  const scorer: Scorer = { ...fakeScorer({}), choiceLogLikelihoods: (reqs) => fakeScorer(tables[active]).choiceLogLikelihoods(reqs) };
  const report = evaluate(scorer, variants, [task]);
  const acc = report.tasks[0].metrics.acc;
  near(acc.values.base.mean, 0.5);
  near(acc.values.adapted.mean, 0.75);
  near(acc.deltas.adapted.mean, 0.25);
  // McNemar: only base right on a (1), only adapted right on b, d (2): p = 2 * P(Bin(3, .5) <= 1) = 1
  near(acc.deltas.adapted.mcnemarP!, 1);
  assert.equal(report.items.length, 8);
  assert.ok(report.tasks[0].reliability!.base.length === 15);
  assert.ok(Number.isFinite(report.tasks[0].metrics.ece.values.base.mean));
});

test('perplexity and bits per byte are corpus-level; generation scores exact match and F1', () => {
  const rolling: EvalTask = {
    name: 'ppl',
    outputType: 'loglikelihood_rolling',
    until: [],
    maxGenTokens: 0,
    description: '',
    items: [
      { id: '1', context: '', text: 'abcd' },
      { id: '2', context: '', text: 'ef' },
    ],
  };
  const gen: EvalTask = { name: 'gen', outputType: 'generate_until', until: ['\n'], maxGenTokens: 5, description: '', items: [{ id: 'q', context: 'Q?', answers: ['the answer'] }] };
  const scorer = fakeScorer({}, { abcd: [4, 2], ef: [2, 2] }, { 'Q?': 'Answer' });
  const report = evaluate(scorer, [{ name: 'base', run: (fn) => fn() }], [rolling, gen]);
  // total NLL 6 nats over 4 tokens and 6 bytes
  near(report.tasks[0].metrics.perplexity.values.base.mean, Math.exp(6 / 4));
  near(report.tasks[0].metrics.bits_per_byte.values.base.mean, 6 / (Math.LN2 * 6));
  near(report.tasks[1].metrics.exact_match.values.base.mean, 1);
  near(report.tasks[1].metrics.f1.values.base.mean, 1);
});

test('task files: templates, choices, targets and seeded few-shot examples', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-ts-task-'));
  writeFileSync(
    join(dir, 'data.jsonl'),
    [
      { q: 'two plus two', a: 'four' },
      { q: 'one plus one', a: 'two' },
      { q: 'three plus zero', a: 'three' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n'),
  );
  writeFileSync(
    join(dir, 'task.yaml'),
    'task: arithmetic\noutput_type: multiple_choice\ndataset: data.jsonl\ndoc_to_text: "Q: {q}\\nA:"\ndoc_to_choice: ["two", "three", "four"]\ndoc_to_target: "{a}"\nnum_fewshot: 1\nfewshot_seed: 3\n',
  );
  const task = loadTaskSpec(readTaskSpec(join(dir, 'task.yaml')));
  assert.equal(task.items.length, 3);
  assert.deepEqual(task.items[0].choices, [' two', ' three', ' four']);
  assert.equal(task.items[0].gold, 2);
  assert.match(task.items[0].context, /^Q: (one plus one|three plus zero)\nA: (two|three)\n\nQ: two plus two\nA:$/);
  assert.deepEqual(loadTaskSpec(readTaskSpec(join(dir, 'task.yaml'))).items, task.items, 'few-shot draws are seeded');
  writeFileSync(join(dir, 'bad.yaml'), 'task: x\noutput_type: multiple_choice\ndataset: data.jsonl\n');
  assert.throws(() => readTaskSpec(join(dir, 'bad.yaml')), /needs doc_to_choice/);
});

test("the report writes results.json, items.jsonl with every model's answer per item (like --log_samples), and an HTML page", () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-ts-report-'));
  const task: EvalTask = {
    name: 't',
    outputType: 'classification',
    until: [],
    maxGenTokens: 0,
    description: 'd',
    items: [
      { id: 'a', context: 'Is a?', choices: [' x', ' y'], gold: 0 },
      { id: 'b', context: 'Is b?', choices: [' x', ' y'], gold: 1 },
    ],
  };
  const report = evaluate(
    fakeScorer({ 'Is a?': [-1, -2], 'Is b?': [-1, -2] }),
    [
      { name: 'base', run: (fn) => fn() },
      { name: 'lora', run: (fn) => fn() },
    ],
    [task],
  );
  writeReport(report, dir, { title: 'test' });
  const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
  assert.equal(results.tasks[0].metrics.acc.values.base.mean, 0.5);
  const samples = readFileSync(join(dir, 'items.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(samples.length, 2, 'one line per item');
  assert.deepEqual({ ...samples[1], models: undefined }, { task: 't', doc_id: 'b', prompt: 'Is b?', target: ' y', choices: [' x', ' y'], models: undefined });
  assert.deepEqual(Object.keys(samples[1].models), ['base', 'lora']);
  const b = samples[1].models.base;
  assert.deepEqual([b.prediction, b.pred, b.gold, b.correct], [' x', 0, 1, 0]);
  near(b.probs[0], 1 / (1 + Math.exp(-1)));
  assert.deepEqual(b.logliks, [-1, -2]);
  assert.match(readFileSync(join(dir, 'index.html'), 'utf8'), /new Chart\(/);
});

test("proportions carry Wilson intervals and their paired changes Newcombe's; flipped items are listed both ways; progress is reported", () => {
  // 5 items: base right on 0 and 1, the adapter right on 1, 2 and 3: fixed 2, 3; broken 0
  const task: EvalTask = {
    name: 't',
    outputType: 'classification',
    until: [],
    maxGenTokens: 0,
    description: 'd',
    items: [0, 1, 2, 3, 4].map((i) => ({ id: String(i), context: String(i), choices: [' no', ' yes'], gold: 1 })),
  };
  const right: Record<string, number[]> = { base: [0, 1], lora: [1, 2, 3] };
  let active = 'base';
  const scorer: Scorer = {
    ...fakeScorer({}),
    choiceLogLikelihoods: (reqs, progress) => {
      progress?.(reqs.length, reqs.length);
      return reqs.map((q) => ({ logliks: right[active].includes(Number(q.context)) ? [-2, -1] : [-1, -2], tokens: [1, 1] }));
    },
  };
  const seen: string[] = [];
  const report = evaluate(
    scorer,
    ['base', 'lora'].map((name) => ({
      name,
      run: (fn) => {
        active = name;
        return fn();
      },
    })),
    [task],
    { onProgress: (p) => seen.push(`${p.variant} ${p.done}/${p.total}`) },
  );
  assert.deepEqual(seen, ['base 0/5', 'base 5/5', 'lora 0/5', 'lora 5/5']);
  const acc = report.tasks[0].metrics.acc;
  assert.deepEqual(acc.values.base.ci95, wilsonInterval(2, 5));
  assert.equal(acc.values.base.interval, 'wilson');
  assert.deepEqual(acc.deltas.lora.ci95, newcombePairedInterval({ both: 1, onlyA: 1, onlyB: 2, neither: 1 }));
  assert.equal(acc.deltas.lora.interval, 'newcombe');
  assert.ok(acc.values.base.ci95[0] >= 0, "a proportion's interval stays in [0, 1]");
  assert.equal(report.tasks[0].metrics.brier.values.base.interval, 'normal');
  assert.deepEqual(report.tasks[0].flips, { lora: { fixed: ['2', '3'], broken: ['0'] } });
  assert.match(summaryText(report), /Wilson score; Newcombe's hybrid score/);
  // no discordant items: the change is 0 with an interval of honest width, not [0, 0]
  const same = evaluate(
    scorer,
    ['base', 'base2'].map((name) => ({
      name,
      run: (fn) => {
        active = 'base';
        return fn();
      },
    })),
    [task],
  );
  const d = same.tasks[0].metrics.acc.deltas.base2;
  assert.equal(d.mean, 0);
  assert.ok(d.ci95[0] < -0.2 && d.ci95[1] > 0.2, `${d.ci95}`);
});

// Issue 12 (wider set): task files are settings too; nothing in them is ignored or accepted out of range.
test('task files: unknown fields, fields of the wrong type and more few-shot examples than records are ConfigErrors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-ts-task-'));
  writeFileSync(join(dir, 'd.jsonl'), '{"q":"a","answer":"x"}\n{"q":"b","answer":"y"}\n');
  const base = { task: 't', output_type: 'multiple_choice', dataset: 'd.jsonl', doc_to_text: '{q}', doc_to_choice: ['x', 'y'], doc_to_target: '{answer}' };
  const spec = (over: Record<string, unknown>) => {
    const p = join(dir, 'task.json');
    writeFileSync(p, JSON.stringify({ ...base, ...over }));
    return p;
  };
  for (const [over, pattern] of [
    [{ num_fewshot: -1 }, /'num_fewshot' must be a non-negative integer/],
    [{ num_fewshot: 1.5 }, /'num_fewshot'/],
    [{ max_gen_toks: 1e12 }, /'max_gen_toks' must be a positive integer of at most 100000/],
    [{ until: 'x' }, /'until' must be a list of strings/],
    [{ doc_to_choice: { a: 1 } }, /'doc_to_choice' must be a list of template strings or a field name/],
    [{ generation_kwargs: { max_gen_toks: 5 } }, /unknown field 'generation_kwargs'/],
  ] as const)
    assert.throws(() => readTaskSpec(spec(over)), pattern, JSON.stringify(over));
  assert.throws(() => loadTaskSpec(readTaskSpec(spec({ num_fewshot: 1e9 }))), /num_fewshot 1000000000 exceeds the 1 records available/);
  assert.equal(loadTaskSpec(readTaskSpec(spec({ num_fewshot: 1 }))).items.length, 2);
});

test('a change is called better or worse only when its interval excludes zero, read with the metric direction', () => {
  assert.equal(changeDirection({ mean: 0.02, ci95: [0.005, 0.04] }, true), 'better');
  assert.equal(changeDirection({ mean: 0.02, ci95: [0.005, 0.04] }, false), 'worse');
  assert.equal(changeDirection({ mean: 0.02, ci95: [-0.01, 0.05] }, true), 'unclear');
  assert.equal(changeDirection({ mean: -0.1, ci95: [-0.2, -0.01] }, true), 'worse');
  assert.equal(changeDirection({ mean: 0.1, ci95: [Number.NaN, Number.NaN] }, true), 'unclear');
});
