import { existsSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { bundledTask, bundledTaskNames, heldOutDocuments, readRecords, renderTemplate, shuffled, type SourcedRecord } from '../data/index.js';
import { ConfigError } from '../errors.js';
import { readTextFile } from '../files.js';

export type OutputType = 'multiple_choice' | 'classification' | 'generate_until' | 'loglikelihood_rolling';

/** One item to score. Which fields are set depends on the task's output type. */
export interface EvalItem {
  id: string;
  context: string;
  choices?: string[];
  gold?: number;
  /** Reference answer(s) for generate_until. */
  answers?: string[];
  /** Document text for loglikelihood_rolling. */
  text?: string;
  cluster?: string;
}

export interface EvalTask {
  name: string;
  outputType: OutputType;
  items: EvalItem[];
  until: string[];
  maxGenTokens: number;
  description: string;
}

/**
 * A task as data, in lm-evaluation-harness' terms: a data file, templates that turn a record
 * into a context (doc_to_text), choices (doc_to_choice) and a target (doc_to_target), few-shot
 * examples drawn with a seed, and the output type that decides how it is scored.
 */
export interface TaskSpec {
  task: string;
  output_type: OutputType;
  dataset: string;
  doc_to_text?: string;
  /** A list of choice strings, or the name of a field holding the list. */
  doc_to_choice?: string[] | string;
  /** Template of the target: the gold choice's index or text (multiple choice) or the answer (generation). */
  doc_to_target?: string;
  target_delimiter?: string;
  fewshot_split?: string;
  num_fewshot?: number;
  fewshot_seed?: number;
  fewshot_delimiter?: string;
  until?: string[];
  max_gen_toks?: number;
  description?: string;
}

const OUTPUT_TYPES: OutputType[] = ['multiple_choice', 'classification', 'generate_until', 'loglikelihood_rolling'];

function fail(path: string, message: string): never {
  throw new ConfigError(`[task] ${path}: ${message}`, { hint: 'See the task format in README (Evaluation).' });
}

/** Reads and checks a JSON or YAML task file; paths in it are relative to the file. */
export function readTaskSpec(path: string): TaskSpec {
  if (!existsSync(path)) throw new ConfigError(`[task] ${path} not found.`, { hint: `Bundled tasks: ${[...bundledTaskNames(), 'heldout-perplexity'].join(', ')}; or pass a .json/.yaml task file.` });
  const text = readTextFile(path, (problem, cause) => new ConfigError(`[task] ${path} ${problem}.`, { hint: 'Pass a .json or .yaml task file.', cause }));
  let spec: TaskSpec;
  try {
    spec = (['.yaml', '.yml'].includes(extname(path)) ? parseYaml(text) : JSON.parse(text)) as TaskSpec;
  } catch (cause) {
    throw new ConfigError(`[task] ${path} is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}.`, { hint: 'Fix the syntax.', cause });
  }
  if (!spec || typeof spec.task !== 'string') fail(path, "'task' (the task's name) is required.");
  if (!OUTPUT_TYPES.includes(spec.output_type)) fail(path, `output_type must be one of ${OUTPUT_TYPES.join(', ')}.`);
  if (typeof spec.dataset !== 'string') fail(path, "'dataset' (a .jsonl, .json or .csv file) is required.");
  spec.dataset = resolve(dirname(path), spec.dataset);
  if (spec.fewshot_split) spec.fewshot_split = resolve(dirname(path), spec.fewshot_split);
  if ((spec.output_type === 'multiple_choice' || spec.output_type === 'classification') && !spec.doc_to_choice) fail(path, `${spec.output_type} needs doc_to_choice.`);
  checkFieldTypes(path, spec as unknown as Record<string, unknown>);
  return spec;
}

/** What each optional task field must hold; a field not listed here is unknown and refused. */
const FIELD_CHECKS: Record<string, [string, (v: unknown) => boolean]> = {
  task: ['a string', (v) => typeof v === 'string'],
  output_type: ['an output type', () => true],
  dataset: ['a path', () => true],
  doc_to_text: ['a template string', (v) => typeof v === 'string'],
  doc_to_target: ['a template string', (v) => typeof v === 'string'],
  doc_to_choice: ['a list of template strings or a field name', (v) => typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string'))],
  target_delimiter: ['a string', (v) => typeof v === 'string'],
  fewshot_delimiter: ['a string', (v) => typeof v === 'string'],
  fewshot_split: ['a path', (v) => typeof v === 'string'],
  num_fewshot: ['a non-negative integer', (v) => Number.isSafeInteger(v) && (v as number) >= 0],
  fewshot_seed: ['an integer', (v) => Number.isSafeInteger(v)],
  until: ['a list of strings', (v) => Array.isArray(v) && v.every((x) => typeof x === 'string')],
  max_gen_toks: ['a positive integer of at most 100000', (v) => Number.isSafeInteger(v) && (v as number) > 0 && (v as number) <= 100_000],
  description: ['a string', (v) => typeof v === 'string'],
};

function checkFieldTypes(path: string, spec: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(spec)) {
    const check = FIELD_CHECKS[key];
    if (!check) fail(path, `unknown field '${key}' (known: ${Object.keys(FIELD_CHECKS).join(', ')}).`);
    if (value !== undefined && value !== null && !check[1](value)) fail(path, `'${key}' must be ${check[0]}, got ${JSON.stringify(value)?.slice(0, 60)}.`);
  }
}

function choicesOf(spec: TaskSpec, r: SourcedRecord): string[] {
  const c = spec.doc_to_choice;
  if (Array.isArray(c)) return c.map((x) => renderTemplate(x, r));
  const list = r.fields[c!];
  if (!Array.isArray(list)) throw new ConfigError(`[task] ${r.file}:${r.line}: field '${c}' should hold the list of choices.`, { hint: 'Or give doc_to_choice as a list.' });
  return list.map(String);
}

function goldOf(spec: TaskSpec, r: SourcedRecord, choices: string[]): number {
  const target = renderTemplate(spec.doc_to_target ?? '{label}', r).trim();
  const byIndex = /^\d+$/.test(target) ? Number(target) : -1;
  const index = byIndex >= 0 && byIndex < choices.length ? byIndex : choices.findIndex((c) => c.trim() === target);
  if (index < 0)
    throw new ConfigError(`[task] ${r.file}:${r.line}: target '${target}' is neither a choice index nor one of the choices.`, { hint: 'doc_to_target must render to an index or a choice.' });
  return index;
}

/** Resolves a task file into items, with seeded few-shot examples prepended to each context. */
export function loadTaskSpec(spec: TaskSpec): EvalTask {
  const records = readRecords(spec.dataset);
  const delimiter = spec.target_delimiter ?? ' ';
  const shots = spec.num_fewshot ? readRecords(spec.fewshot_split ?? spec.dataset) : [];
  // Each item draws its shots from the others (or from fewshot_split): there must be enough.
  const available = spec.fewshot_split ? shots.length : shots.length - 1;
  if (spec.num_fewshot && spec.num_fewshot > available)
    throw new ConfigError(`[task] ${spec.task}: num_fewshot ${spec.num_fewshot} exceeds the ${available} records available as examples.`, {
      hint: 'Lower num_fewshot or give a larger fewshot_split.',
    });
  const item = (r: SourcedRecord, i: number): EvalItem => {
    const text = spec.doc_to_text ? renderTemplate(spec.doc_to_text, r) : '';
    const base = { id: `${spec.task}/${i}`, context: text };
    switch (spec.output_type) {
      case 'loglikelihood_rolling':
        return { ...base, context: '', text: spec.doc_to_text ? text : renderTemplate('{text}', r) };
      case 'generate_until':
        return { ...base, answers: [renderTemplate(spec.doc_to_target ?? '{answer}', r)] };
      default: {
        const choices = choicesOf(spec, r).map((c) => delimiter + c);
        return {
          ...base,
          choices,
          gold: goldOf(
            spec,
            r,
            choices.map((c) => c.slice(delimiter.length)),
          ),
        };
      }
    }
  };
  const render = (r: SourcedRecord, i: number) => {
    const it = item(r, i);
    const answer = it.choices ? it.choices[it.gold!] : delimiter + (it.answers?.[0] ?? '');
    return it.context + answer;
  };
  const items = records.map((r, i) => {
    const it = item(r, i);
    if (!shots.length || spec.output_type === 'loglikelihood_rolling') return it;
    // Few-shot examples: drawn per item with a seed, never the item itself.
    const pool = shuffled(
      shots.map((_, k) => k).filter((k) => shots[k] !== r),
      (spec.fewshot_seed ?? 1234) + i,
    ).slice(0, spec.num_fewshot);
    const prefix = pool.map((k) => render(shots[k], k)).join(spec.fewshot_delimiter ?? '\n\n');
    return { ...it, context: prefix + (spec.fewshot_delimiter ?? '\n\n') + it.context };
  });
  return { name: spec.task, outputType: spec.output_type, items, until: spec.until ?? ['\n'], maxGenTokens: spec.max_gen_toks ?? 32, description: spec.description ?? spec.task };
}

/** The bundled evaluation tasks: the demo's downstream tasks (test split) and held-out-text perplexity. */
export function bundledEvalTask(name: string): EvalTask {
  if (name === 'heldout-perplexity') {
    return {
      name,
      outputType: 'loglikelihood_rolling',
      until: [],
      maxGenTokens: 0,
      description: "Perplexity on text held out of the bundled model's pretraining (every 5th State of the Union address, every 10th Moby Dick chapter): general capability kept",
      items: heldOutDocuments().map((d) => ({ id: d.id, context: '', text: d.text, cluster: d.id.split('/')[0] })),
    };
  }
  const t = bundledTask(name);
  return {
    name,
    outputType: 'classification',
    until: [],
    maxGenTokens: 0,
    description: t.description,
    items: t.test.map((i) => ({ id: i.id, context: i.prompt, choices: i.choices, gold: i.gold, cluster: i.cluster })),
  };
}

/** A task by bundled name or by task-file path. */
export function resolveTask(nameOrPath: string): EvalTask {
  if ([...bundledTaskNames(), 'heldout-perplexity'].includes(nameOrPath)) return bundledEvalTask(nameOrPath);
  return loadTaskSpec(readTaskSpec(nameOrPath));
}
