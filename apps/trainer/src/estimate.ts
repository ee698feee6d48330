// The expected wall time of a run, printed before a long one starts (`tagi experiment ablations`): updates
// per stage × the seconds one update took on this project's reference machine, plus evaluation. An
// estimate, not a promise: other processes on the cores stretch it (the run records its load average).
import type { TagiConfig } from './config.js';
import { ablationVariants } from './stages/hypernet.js';

/**
 * Seconds per update (and per evaluated instance and method) measured on the reference machine: 2 CPU
 * cores, Node 20, the tensorflow (tfjs-node) backend, `tiny` preset shapes, at a load average of 8-10
 * from other jobs (apps/trainer/DEMO-RESULTS.md). Finetuning is the mean of a TAGI update (which also
 * runs the KD teacher on uncached examples, ≈ 0.7 s) and a CE-only one (≈ 0.45 s). wasm is about 3× slower.
 */
export const REFERENCE_SECONDS = {
  base: 0.33,
  teacher: 0.17,
  multitask: 0.32,
  pretrain: 0.3,
  finetune: 0.55,
  evalInstance: 0.0021,
} as const;

/** Instances one evaluation scores per method (held-out + seen settings) on the embedded suite's default sizes. */
const EVAL_INSTANCES = 4600;

export interface TimeEstimate {
  seconds: number;
  stages: { stage: string; updates: number; seconds: number }[];
}

/** Expected seconds of `tagi demo` (variants 2) or `tagi experiment ablations` (variants 5) under `c`. */
export function estimateRun(c: TagiConfig, variants: number, teacherGroups = 6): TimeEstimate {
  const r = REFERENCE_SECONDS;
  const seeds = c.hypernet.seeds;
  const stages = [
    ...(c.model === undefined ? [{ stage: 'base', updates: c.base.train.steps, per: r.base }] : []),
    ...(c.distill.lambdaIns > 0 ? [{ stage: 'teachers', updates: teacherGroups * c.teachers.train.steps, per: r.teacher }] : []),
    { stage: 'multitask', updates: c.multitask.train.steps, per: r.multitask },
    { stage: 'hypernet pretraining', updates: seeds * c.hypernet.pretrain.steps, per: r.pretrain },
    { stage: 'hypernet finetuning', updates: seeds * variants * c.hypernet.finetune.steps, per: r.finetune },
    { stage: 'evaluation', updates: (2 + seeds * variants) * EVAL_INSTANCES, per: r.evalInstance },
  ].map((s) => ({ stage: s.stage, updates: s.updates, seconds: s.updates * s.per }));
  return { seconds: stages.reduce((a, s) => a + s.seconds, 0), stages };
}

/** The line `tagi experiment ablations` prints before it starts. */
export function expectedTimeLine(c: TagiConfig): string {
  const e = estimateRun(c, ablationVariants(c).length);
  const parts = e.stages.map((s) => `${s.stage} ${Math.round(s.seconds / 60)} min`).join(', ');
  return `expected time: about ${Math.round(e.seconds / 60)} min on 2 shared cores (load 8-10) with the tensorflow backend (${parts}); longer on wasm (about 3×)`;
}
