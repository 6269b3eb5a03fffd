import { ArgumentError } from '../../errors.js';

export type ScheduleName = 'constant' | 'linear' | 'cosine';

export interface Schedule {
  name: ScheduleName;
  warmupSteps: number;
  totalSteps: number;
}

/**
 * Learning-rate multiplier at `step` (0-based), as transformers' get_*_schedule_with_warmup:
 * linear warmup from 0 over warmupSteps, then constant, linear decay to 0, or half-cosine to 0.
 */
export function lrMultiplier(s: Schedule, step: number): number {
  if (s.warmupSteps > 0 && step < s.warmupSteps) return step / s.warmupSteps;
  if (s.name === 'constant') return 1;
  const decaySteps = Math.max(1, s.totalSteps - s.warmupSteps);
  const progress = Math.min(1, (step - s.warmupSteps) / decaySteps);
  return s.name === 'linear' ? Math.max(0, 1 - progress) : 0.5 * (1 + Math.cos(Math.PI * progress));
}

export function validateSchedule(s: Schedule): void {
  if (!['constant', 'linear', 'cosine'].includes(s.name)) throw new ArgumentError(`[schedule] unknown schedule '${s.name}'.`, 'Use constant, linear or cosine.');
  if (!Number.isInteger(s.warmupSteps) || s.warmupSteps < 0) throw new ArgumentError(`[schedule] warmup steps ${s.warmupSteps} must be a non-negative integer.`, 'Pass 0 for no warmup.');
}
