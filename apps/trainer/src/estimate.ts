// The expected wall time of a run, printed before a long one starts (`tagi experiment ablations|paper`):
// updates per stage × the seconds one update took on this project's reference machine, plus evaluation.
// An estimate, not a promise: other processes on the cores stretch it (the run records its load average).
import type { TagiConfig } from './config.js';
import type { RunCommand } from './invocation.js';
import { ablationVariants, paperVariants } from './stages/hypernet.js';

/**
 * Seconds per update (and per evaluated instance and model pass) measured on the reference machine: 2 quiet
 * CPU cores, Node 20, the tensorflow (tfjs-node) backend, `tiny` preset shapes (apps/trainer/DEMO-RESULTS.md).
 * A teacher update is one update of a bank (all teachers at once); finetuning is the mean of a TAGI update
 * (which also runs the KD teacher on uncached examples) and a CE-only one. wasm is about 3× slower.
 */
export const REFERENCE_SECONDS = {
  base: 0.17,
  teacher: 0.22,
  multitask: 0.15,
  pretrain: 0.2,
  finetune: 0.25,
  evalInstance: 0.0012,
} as const;

/** Evaluated instances per model pass on the embedded suite's default sizes, by evaluation setting. */
const EVAL_INSTANCES: Record<string, number> = { 'seen-new': 166 * 16, heldout: 153 * 32 + 16 * 24 };

export interface TimeEstimate {
  seconds: number;
  stages: { stage: string; updates: number; seconds: number }[];
}

/** Expected seconds of `command` under `c` (`tagi demo`, `tagi experiment ablations`, `tagi experiment paper`). */
export function estimateRun(c: TagiConfig, command: RunCommand): TimeEstimate {
  const r = REFERENCE_SECONDS;
  const seeds = c.hypernet.seeds;
  const variants = command === 'experiment-paper' ? paperVariants(c).length : command === 'experiment' ? ablationVariants(c).length : 2;
  const multitasks = command === 'experiment-paper' ? 2 : 1;
  // model passes over the evaluation rows: no adapter and multitask per prompt setting, every hypernetwork, TAGI's two controls per seed
  const passes = 2 * multitasks + seeds * (variants + (c.eval.controls ? 2 * multitasks : 0));
  const perPass = c.eval.splits.reduce((n, s) => n + (s === 'seen-train' ? 166 * c.eval.seenTrainInstancesPerTask : (EVAL_INSTANCES[s] ?? 0)), 0);
  const stages = [
    ...(c.model === undefined ? [{ stage: 'base', updates: c.base.train.steps, per: r.base }] : []),
    ...(c.distill.lambdaIns > 0 || c.distill.klTeacher !== 'multitask' ? [{ stage: 'teachers', updates: c.teachers.train.steps, per: r.teacher }] : []),
    { stage: 'multitask', updates: multitasks * c.multitask.train.steps, per: r.multitask },
    { stage: 'hypernet pretraining', updates: seeds * c.hypernet.pretrain.steps, per: r.pretrain },
    { stage: 'hypernet finetuning', updates: seeds * variants * c.hypernet.finetune.steps, per: r.finetune },
    { stage: 'evaluation', updates: passes * perPass, per: r.evalInstance },
  ].map((s) => ({ stage: s.stage, updates: s.updates, seconds: s.updates * s.per }));
  return { seconds: stages.reduce((a, s) => a + s.seconds, 0), stages };
}

/** The line a long run prints before it starts. */
export function expectedTimeLine(c: TagiConfig, command: RunCommand): string {
  const e = estimateRun(c, command);
  const parts = e.stages.map((s) => `${s.stage} ${Math.round(s.seconds / 60)} min`).join(', ');
  return `expected time: about ${Math.round(e.seconds / 60)} min on 2 quiet cores with the tensorflow backend (${parts}); longer on wasm (about 3×) or on a loaded machine`;
}
