import { ArgumentError } from '../errors.js';
import { Generator } from '../tensor/index.js';

/** A seeded shuffle (Fisher-Yates): the same seed gives the same order on every machine. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const gen = new Generator(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(gen.uniform() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Splits off a seeded validation fraction; both parts keep at least one item. */
export function validationSplit<T>(items: readonly T[], fraction: number, seed: number): { train: T[]; validation: T[] } {
  if (!(fraction > 0 && fraction < 1)) throw new ArgumentError(`[data] validation fraction ${fraction} must be in (0, 1).`, 'Use e.g. 0.1.');
  if (items.length < 2) throw new ArgumentError(`[data] ${items.length} example(s) cannot be split into train and validation.`, 'Provide more data or a separate validation file.');
  const order = shuffled(items, seed);
  const n = Math.min(items.length - 1, Math.max(1, Math.round(items.length * fraction)));
  return { validation: order.slice(0, n), train: order.slice(n) };
}
