/** Per-item scores, as lm-evaluation-harness computes them. */

export function softmax(logliks: readonly number[]): number[] {
  const m = Math.max(...logliks);
  const e = logliks.map((l) => Math.exp(l - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** acc_norm's choice: the highest log-likelihood per byte of the choice's text (lm-eval's length normalisation). */
export function argmaxNormalised(logliks: readonly number[], choices: readonly string[]): number {
  return argmax(logliks.map((l, i) => l / Math.max(1, Buffer.byteLength(choices[i], 'utf8'))));
}

/** SQuAD's normalisation: lower case, no punctuation, no articles, single spaces. */
export function normalizeAnswer(s: string): string {
  return s
    .toLowerCase()
    .replace(/[\p{P}\p{S}]/gu, ' ')
    .replace(/\b(a|an|the)\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function exactMatch(prediction: string, answers: readonly string[]): number {
  return answers.some((a) => normalizeAnswer(a) === normalizeAnswer(prediction)) ? 1 : 0;
}

/** Token-overlap F1 between prediction and the best-matching answer (SQuAD). */
export function tokenF1(prediction: string, answers: readonly string[]): number {
  const pred = normalizeAnswer(prediction).split(' ').filter(Boolean);
  return Math.max(
    0,
    ...answers.map((a) => {
      const gold = normalizeAnswer(a).split(' ').filter(Boolean);
      if (!pred.length || !gold.length) return pred.length === gold.length ? 1 : 0;
      const counts = new Map<string, number>();
      for (const g of gold) counts.set(g, (counts.get(g) ?? 0) + 1);
      let common = 0;
      for (const p of pred) {
        const c = counts.get(p) ?? 0;
        if (c > 0) {
          common++;
          counts.set(p, c - 1);
        }
      }
      if (common === 0) return 0;
      const precision = common / pred.length,
        recall = common / gold.length;
      return (2 * precision * recall) / (precision + recall);
    }),
  );
}
