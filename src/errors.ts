/**
 * Every error peft-ts throws is a PeftTsError: a stable `code` for programs, a one-line message
 * that starts with the operation in brackets and says what to do, and the underlying `cause`.
 */
export class PeftTsError extends Error {
  readonly code: string;
  readonly hint?: string;
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    // One line always: messages quote file contents and library errors, which may hold newlines.
    super((options.hint ? `${message} ${options.hint}` : message).replace(/\s*[\r\n]+\s*/g, ' '), { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** Operand shapes that cannot go together (broadcasting, matmul, concat, ...). */
export class ShapeError extends PeftTsError {
  constructor(message: string, hint?: string) {
    super('E_SHAPE', message, { hint });
  }
}

/** A dtype the operation does not accept. */
export class DTypeError extends PeftTsError {
  constructor(message: string, hint?: string) {
    super('E_DTYPE', message, { hint });
  }
}

/** An argument outside its valid range: an axis, a probability, a size. */
export class ArgumentError extends PeftTsError {
  constructor(message: string, hint?: string) {
    super('E_ARGUMENT', message, { hint });
  }
}

/** Autograd misuse: backward without a gradient, through a freed graph, ... */
export class AutogradError extends PeftTsError {
  constructor(message: string, hint?: string) {
    super('E_AUTOGRAD', message, { hint });
  }
}

/** The requested backend cannot be used here. */
export class BackendError extends PeftTsError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('E_BACKEND', message, options);
  }
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A checkpoint or adapter file that is missing, corrupt, or does not fit the model. */
export class CheckpointError extends PeftTsError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('E_CHECKPOINT', message, options);
  }
}

/** A config (config.json, adapter_config.json, CLI settings) with missing or invalid fields. */
export class ConfigError extends PeftTsError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('E_CONFIG', message, options);
  }
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = row[j];
      row[j] = next;
    }
  }
  return row[b.length];
}

/** The closest of `options` to `word`, when it is close enough to be a likely typo (for "did you mean" hints everywhere). */
export function didYouMean(word: string, options: Iterable<string>): string | null {
  let best: string | null = null,
    bestDistance = Infinity;
  for (const option of options) {
    const d = levenshtein(word.toLowerCase(), option.toLowerCase());
    if (d < bestDistance) {
      best = option;
      bestDistance = d;
    }
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}
