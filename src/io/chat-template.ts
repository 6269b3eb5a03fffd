import { Environment, Interpreter, Template } from '@huggingface/jinja';
import { ConfigError, PeftTsError } from '../errors.js';

/**
 * Limits on rendering an untrusted chat template (tokenizer_config.json comes with downloaded
 * models). Jinja2's sandbox caps range() at 100000 items; peft-ts also bounds the time, the
 * nesting depth, and the size of every string and list a template builds, so a template can
 * neither hang the process nor exhaust its memory.
 */
export const TEMPLATE_LIMITS = { maxRange: 100_000, maxStringChars: 10_000_000, maxListItems: 1_000_000, maxDepth: 400, maxMilliseconds: 2_000 } as const;

class TemplateLimitError extends ConfigError {
  constructor(what: string) {
    super(`[chat-template] the chat template ${what}; rendering stopped.`, { hint: 'The template is runaway or hostile: fix tokenizer_config.json or use --template instead.' });
  }
}

/** Budget of the render in progress (renders are synchronous, so one at a time). */
let active: { deadline: number; depth: number } | null = null;

// Every node the interpreter evaluates passes through `evaluate`: the one place to watch a
// render's time, depth and the sizes of the values it builds. Outside a bounded render it is untouched.
const evaluate = Interpreter.prototype.evaluate;
Interpreter.prototype.evaluate = function bounded(this: Interpreter, statement: Parameters<Interpreter['evaluate']>[0], environment: Parameters<Interpreter['evaluate']>[1]) {
  const budget = active;
  if (!budget) return evaluate.call(this, statement, environment);
  if (++budget.depth > TEMPLATE_LIMITS.maxDepth) throw new TemplateLimitError(`nests deeper than ${TEMPLATE_LIMITS.maxDepth} levels`);
  if (performance.now() > budget.deadline) throw new TemplateLimitError(`ran longer than ${TEMPLATE_LIMITS.maxMilliseconds} ms`);
  try {
    const value = evaluate.call(this, statement, environment);
    if (typeof value.value === 'string' && value.value.length > TEMPLATE_LIMITS.maxStringChars)
      throw new TemplateLimitError(`built a string of more than ${TEMPLATE_LIMITS.maxStringChars} characters`);
    if (Array.isArray(value.value) && value.value.length > TEMPLATE_LIMITS.maxListItems) throw new TemplateLimitError(`built a list of more than ${TEMPLATE_LIMITS.maxListItems} items`);
    return value;
  } finally {
    budget.depth--;
  }
};

// The library declares its own unbounded range() in every render's environment; during a
// bounded render that declaration gets the capped one instead.
const set = Environment.prototype.set;
Environment.prototype.set = function boundedSet(this: Environment, name: string, value: unknown) {
  return set.call(this, name, active && name === 'range' ? boundedRange : value);
};

/** Python's range() with Jinja2's sandbox cap. */
function boundedRange(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (![start, stop, step].every(Number.isInteger)) throw new ConfigError('[chat-template] range() takes integers.', { hint: 'Fix the chat template.' });
  if (step === 0) throw new ConfigError('[chat-template] range() step must not be zero.', { hint: 'Fix the chat template.' });
  const count = Math.max(0, Math.ceil((stop - start) / step));
  if (count > TEMPLATE_LIMITS.maxRange) throw new TemplateLimitError(`asked range() for ${count} items (at most ${TEMPLATE_LIMITS.maxRange}, as Jinja2's sandbox)`);
  return Array.from({ length: count }, (_, i) => start + i * step);
}

/** A parsed chat template, rendered within TEMPLATE_LIMITS; every failure is a ConfigError. */
export class ChatTemplate {
  private readonly template: Template;

  constructor(source: string) {
    try {
      this.template = new Template(source);
    } catch (cause) {
      throw new ConfigError(`[chat-template] the chat template does not parse: ${firstLine(cause)}.`, { hint: 'Fix chat_template in tokenizer_config.json.', cause });
    }
  }

  render(context: Record<string, unknown>): string {
    if (active) throw new ConfigError('[chat-template] a chat template cannot render another one.', { hint: 'Render templates one at a time.' });
    active = { deadline: performance.now() + TEMPLATE_LIMITS.maxMilliseconds, depth: 0 };
    try {
      const out = this.template.render(context);
      if (typeof out !== 'string') throw new ConfigError('[chat-template] the chat template did not produce text.', { hint: 'Fix chat_template in tokenizer_config.json.' });
      return out;
    } catch (cause) {
      if (cause instanceof PeftTsError) throw cause;
      // Stack overflows and V8's string-length limit land here too, as ordinary errors.
      throw new ConfigError(`[chat-template] rendering failed: ${firstLine(cause)}.`, { hint: 'Fix chat_template in tokenizer_config.json (raise_exception calls in it say why they refuse).', cause });
    } finally {
      active = null;
    }
  }
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error)
    .split('\n')[0]
    .slice(0, 300);
}
