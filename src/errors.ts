/**
 * Every error peft-ts throws is a PeftTsError: a stable `code` for programs, a message that
 * starts with the operation in brackets and says what to do, and the underlying `cause`.
 */
export class PeftTsError extends Error {
  readonly code: string;
  readonly hint?: string;
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(options.hint ? `${message} ${options.hint}` : message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** Operand shapes that cannot go together (broadcasting, matmul, concat, ...). */
export class ShapeError extends PeftTsError {
  constructor(message: string, hint?: string) { super('E_SHAPE', message, { hint }); }
}

/** A dtype the operation does not accept. */
export class DTypeError extends PeftTsError {
  constructor(message: string, hint?: string) { super('E_DTYPE', message, { hint }); }
}

/** An argument outside its valid range: an axis, a probability, a size. */
export class ArgumentError extends PeftTsError {
  constructor(message: string, hint?: string) { super('E_ARGUMENT', message, { hint }); }
}

/** Autograd misuse: backward without a gradient, through a freed graph, ... */
export class AutogradError extends PeftTsError {
  constructor(message: string, hint?: string) { super('E_AUTOGRAD', message, { hint }); }
}

/** The requested backend cannot be used here. */
export class BackendError extends PeftTsError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) { super('E_BACKEND', message, options); }
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A checkpoint or adapter file that is missing, corrupt, or does not fit the model. */
export class CheckpointError extends PeftTsError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) { super('E_CHECKPOINT', message, options); }
}

/** A config (config.json, adapter_config.json, CLI settings) with missing or invalid fields. */
export class ConfigError extends PeftTsError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) { super('E_CONFIG', message, options); }
}

/** Levenshtein distance, for suggestions. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/** " Did you mean 'x'?" for the candidate nearest to `word` (within a third of its length), or ''. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  let best = '', bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) { best = c; bestDistance = d; }
  }
  return best && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? ` Did you mean '${best}'?` : '';
}
