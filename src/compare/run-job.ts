import { bundledTask, shuffled, type ChoiceItem } from '../data/index.js';
import { ConfigError } from '../errors.js';
import { bundledEvalTask, evaluate, lmScorer, type EvalTask, type Variant } from '../eval/index.js';
import { HFTokenizer } from '../io/index.js';
import { loadPretrained, virtualTokensOf, type CausalLM } from '../models/index.js';
import { methodByName, PeftModel, type PeftConfigInput } from '../peft/index.js';
import { manualSeed } from '../tensor/index.js';
import { causalLMTarget, DEFAULT_TRAIN_CONFIG, encodeChoiceItems, labelWordTarget, trainLoop } from '../train/index.js';
import { type CompareSettings, type ItemRecord, type Job, type JobResult, jobKey } from './jobs.js';

/** Held-out items of a task, the same for every job: the test split, cut to the settings' limit. */
function heldOut(task: string, settings: CompareSettings): EvalTask {
  const t = bundledEvalTask(task);
  if (settings.evalLimit > 0) t.items = t.items.slice(0, settings.evalLimit);
  return t;
}

/** The training items of a job: a seeded draw of `size` from the task's train split. */
export function trainingItems(items: readonly ChoiceItem[], job: Job): ChoiceItem[] {
  const order = shuffled([...items], job.seed);
  return job.size > 0 ? order.slice(0, job.size) : order;
}

/**
 * In-context learning: k solved examples before each item, k as large as the context allows.
 * Each example keeps its last `exampleTokens` tokens (the end of a prompt holds its question),
 * the item its last half of the context; k = what fits in the rest.
 */
export function iclContexts(task: EvalTask, examples: readonly ChoiceItem[], tokenizer: HFTokenizer, maxPositions: number): { task: EvalTask; shots: number } {
  const encode = (s: string) => tokenizer.encode(s, { addSpecialTokens: false });
  const cut = (s: string, n: number) => {
    const ids = encode(s);
    return ids.length <= n ? s : tokenizer.decode(ids.slice(ids.length - n));
  };
  const itemBudget = Math.floor(maxPositions / 2);
  const exampleTokens = Math.max(16, Math.floor(maxPositions / 8));
  const demos = examples.map((e) => `${cut(e.prompt, exampleTokens - 2)}${e.choices[e.gold]}\n\n`);
  let shots = 0,
    used = 0;
  while (shots < demos.length && used + encode(demos[shots]).length <= maxPositions - itemBudget - 1) used += encode(demos[shots++]).length;
  const prefix = demos.slice(0, shots).join('');
  return { shots, task: { ...task, name: task.name, items: task.items.map((it) => ({ ...it, context: prefix + cut(it.context, itemBudget - 2) })) } };
}

function rssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Runs one job in this process: trains what it says, then scores the held-out items and text. */
export async function runJob(job: Job, settings: CompareSettings, onProgress: (message: string) => void = () => {}): Promise<JobResult> {
  manualSeed(job.seed);
  const model = loadPretrained(settings.model).model as CausalLM;
  if (model.task !== 'causal-lm') throw new ConfigError(`[compare] ${settings.model} is not a causal LM.`, { hint: 'compare scores tasks with a causal language model.' });
  const tokenizer = HFTokenizer.fromDir(settings.model);
  const task = bundledTask(job.task);
  let evalTask = heldOut(job.task, settings);
  const peft = new PeftModel(model, { seed: job.seed, tokenize: (text) => tokenizer.encode(text) });
  let trainSeconds = 0,
    shots: number | undefined;

  if (job.kind === 'adapter') {
    const overrides = settings.methods[job.method] ?? {};
    const method = methodByName(overrides.method ?? job.method);
    peft.addAdapter('default', { task_type: 'CAUSAL_LM', ...overrides.peft, peft_type: method.config.peftType, base_model_name_or_path: settings.model } as PeftConfigInput);
    const items = trainingItems(task.train, job);
    const maxLength = model.config.maxPositions - virtualTokensOf(model); // a prompt-based adapter's virtual tokens take positions too
    const encoded = encodeChoiceItems(items, tokenizer, maxLength);
    const choiceIds = task.train[0].choices.map((c) => tokenizer.encode(c, { addSpecialTokens: false }));
    const save = () => {};
    const target = choiceIds.every((ids) => ids.length === 1)
      ? labelWordTarget(
          model,
          choiceIds.map((ids) => ids[0]),
          save,
        )
      : causalLMTarget(model, save);
    const result = await trainLoop(
      target,
      { train: encoded.examples },
      {
        ...DEFAULT_TRAIN_CONFIG,
        epochs: overrides.epochs ?? settings.epochs,
        lr: overrides.lr ?? settings.lr,
        batchSize: Math.min(settings.batchSize, items.length),
        warmupSteps: 0,
        seed: job.seed,
        padId: tokenizer.padTokenId ?? tokenizer.eosTokenId ?? 0,
        learningRates: peft.learningRates('default'),
      },
      {
        onStep: (e) => {
          if (e.step % 20 === 0) onProgress(`step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(4)}`);
        },
      },
    );
    trainSeconds = result.seconds;
  } else if (job.kind === 'icl') {
    const icl = iclContexts(evalTask, shuffled([...task.train], job.seed), tokenizer, model.config.maxPositions);
    evalTask = icl.task;
    shots = icl.shots;
  }

  const variant: Variant =
    job.kind === 'adapter'
      ? {
          name: job.method,
          run: (fn) => {
            peft.setAdapter('default');
            return fn();
          },
        }
      : { name: job.method, run: (fn) => fn() };
  const scorer = lmScorer(model, tokenizer, { batchSize: 16 });
  const heldoutText = bundledEvalTask('heldout-perplexity');
  heldoutText.items = heldoutText.items.slice(0, settings.heldoutDocs);
  onProgress(`scoring ${evalTask.items.length} items and ${heldoutText.items.length} held-out documents`);
  // ICL's long prompts must not cost bits on held-out text: that is the base model's, scored as is.
  const report = evaluate(scorer, [variant], [evalTask], { seed: job.seed });
  const textReport = evaluate(scorer, [variant], [heldoutText], { seed: job.seed });
  const items: ItemRecord[] = report.items.map((r) => ({ id: r.id, gold: r.gold!, pred: r.pred!, correct: r.correct!, probGold: r.probs![r.gold!] }));
  const byteTotal = textReport.items.reduce((a, r) => a + (r.bytes ?? 0), 0);
  const nllTotal = textReport.items.reduce((a, r) => a + (r.nll ?? 0), 0);
  return {
    key: jobKey(job, settings),
    job,
    items,
    accuracy: items.reduce((a, r) => a + r.correct, 0) / items.length,
    heldoutBitsPerByte: nllTotal / (Math.LN2 * byteTotal),
    trainableParameters: job.kind === 'adapter' ? peft.trainableParameters().trainable : 0,
    trainSeconds,
    peakRssMb: rssMb(),
    shots,
    finishedAt: new Date().toISOString(),
  };
}
