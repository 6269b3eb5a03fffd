import { ArgumentError } from '../errors.js';

export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  confidence: number;
  accuracy: number;
}

/**
 * Expected calibration error with equal-width confidence bins (15 by default, as Guo et al.):
 * sum over bins of (bin size / n) * |accuracy - mean confidence|, confidence being the
 * probability of the predicted class. Returns the bins too, for a reliability diagram.
 */
export function expectedCalibrationError(confidence: readonly number[], correct: readonly boolean[], bins = 15): { ece: number; bins: ReliabilityBin[] } {
  if (confidence.length !== correct.length || confidence.length === 0)
    throw new ArgumentError('[calibration] need equal, non-zero numbers of confidences and outcomes.', 'Pass one confidence and one outcome per item.');
  const out: ReliabilityBin[] = Array.from({ length: bins }, (_, b) => ({ lower: b / bins, upper: (b + 1) / bins, count: 0, confidence: 0, accuracy: 0 }));
  confidence.forEach((p, i) => {
    // Bins are (lower, upper]; a confidence of exactly 0 goes in the first.
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(p * bins) - 1));
    out[b].count++;
    out[b].confidence += p;
    out[b].accuracy += correct[i] ? 1 : 0;
  });
  let ece = 0;
  for (const bin of out) {
    if (!bin.count) continue;
    bin.confidence /= bin.count;
    bin.accuracy /= bin.count;
    ece += (bin.count / confidence.length) * Math.abs(bin.accuracy - bin.confidence);
  }
  return { ece, bins: out };
}

/** Multi-class Brier score (Brier, 1950): mean over items of sum_k (p_k - [k == gold])^2. 0 is perfect, 2 the worst. */
export function brierScore(probabilities: readonly (readonly number[])[], gold: readonly number[]): number {
  if (probabilities.length !== gold.length || gold.length === 0) throw new ArgumentError('[calibration] need one probability vector per gold label.', 'Pass matching arrays.');
  return probabilities.reduce((s, p, i) => s + p.reduce((t, pk, k) => t + (pk - (k === gold[i] ? 1 : 0)) ** 2, 0), 0) / gold.length;
}
