// Learning-rate schedules as plain functions of the optimizer step index (the number of steps already
// taken, as HF's LambdaLR counts): linear warmup from 0, then constant, linear decay to 0, or cosine.

export type LrSchedule = (step: number) => number;

export type ScheduleKind = 'constant' | 'linear' | 'cosine';

export interface ScheduleOptions {
  kind: ScheduleKind;
  /** Peak learning rate. */
  lr: number;
  /** Steps of linear warmup from 0 to `lr` (default 0). */
  warmupSteps?: number;
  /** Total training steps; required for 'linear' and 'cosine'. */
  totalSteps?: number;
  /** Cosine: number of half-periods over the decay (HF's num_cycles, default 0.5 = one half-cosine to 0). */
  numCycles?: number;
}

function checkStep(step: number): void {
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`schedule: step must be a non-negative integer, got ${step}`);
}

/** Builds a schedule; multipliers follow HF's get_{constant,linear,cosine}_schedule_with_warmup. */
export function makeSchedule(opts: ScheduleOptions): LrSchedule {
  const { kind, lr, warmupSteps = 0, totalSteps, numCycles = 0.5 } = opts;
  if (!(lr >= 0) || !Number.isFinite(lr)) throw new RangeError(`makeSchedule: lr must be a finite number >= 0, got ${lr}`);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) {
    throw new RangeError(`makeSchedule: warmupSteps must be a non-negative integer, got ${warmupSteps}`);
  }
  const warm = (step: number): number | undefined => (step < warmupSteps ? step / Math.max(1, warmupSteps) : undefined);
  if (kind === 'constant') {
    return (step) => {
      checkStep(step);
      return lr * (warm(step) ?? 1);
    };
  }
  if (kind !== 'linear' && kind !== 'cosine') {
    throw new RangeError(`makeSchedule: kind must be 'constant', 'linear' or 'cosine', got '${String(kind)}'`);
  }
  if (totalSteps === undefined || !Number.isInteger(totalSteps) || totalSteps < warmupSteps) {
    throw new RangeError(`makeSchedule: '${kind}' needs an integer totalSteps >= warmupSteps (${warmupSteps}), got ${totalSteps}`);
  }
  const decay = Math.max(1, totalSteps - warmupSteps);
  if (kind === 'linear') {
    return (step) => {
      checkStep(step);
      return lr * (warm(step) ?? Math.max(0, (totalSteps - step) / decay));
    };
  }
  return (step) => {
    checkStep(step);
    const w = warm(step);
    if (w !== undefined) return lr * w;
    const progress = (step - warmupSteps) / decay;
    return lr * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * numCycles * 2 * progress)));
  };
}

export function constantSchedule(lr: number, warmupSteps = 0): LrSchedule {
  return makeSchedule({ kind: 'constant', lr, warmupSteps });
}

export function linearSchedule(lr: number, warmupSteps: number, totalSteps: number): LrSchedule {
  return makeSchedule({ kind: 'linear', lr, warmupSteps, totalSteps });
}

export function cosineSchedule(lr: number, warmupSteps: number, totalSteps: number, numCycles = 0.5): LrSchedule {
  return makeSchedule({ kind: 'cosine', lr, warmupSteps, totalSteps, numCycles });
}
