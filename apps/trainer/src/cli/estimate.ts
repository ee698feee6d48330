// The expected wall time of a run, printed before a long one starts (`tagi experiment ablations|paper`):
// updates per stage × the seconds one update took on this project's reference machine, plus evaluation.
// An estimate, not a promise: other processes on the cores stretch it (the run records its load average).
import type { TagiConfig } from '../config/config.js';
import type { RunCommand } from '../common/command-names.js';
import { ablationVariants, paperVariants } from '../stages/hypernet.js';

/**
 * Seconds per update (and per evaluated instance and model pass) measured on the reference machine: 2 quiet
 * CPU cores, Node 20, the tensorflow (tfjs-node) backend, `tiny` preset shapes (apps/trainer/DEMO-RESULTS.md).
 * A teacher update is one update of a bank (all teachers at once); finetuning is the mean of a TAGI update
 * (which also runs the KD teacher on uncached examples) and a CE-only one. wasm is about 3× slower.
 */
// Measured by `tagi demo --seed=1234` (tiny preset, compositional-v2, 2026-12-08, load average 1.35 → 1.13, 10.2 min
// of wall time): stage seconds / updates; finetune = the mean of TAGI's (0.081) and HINT-like's (0.052);
// evalInstance = evaluation seconds / (model passes × instances per pass) = 122 s / (14 × 8,040); data = the run's
// wall time outside its stages (building the suite, tokenizing, pruning the vocabulary, loading and saving between
// stages). This estimate gave 10.2 min for that run; the previous constants (2026-12-07) said 13.
export const REFERENCE_SECONDS = {
  data: 30,
  base: 0.114,
  teacher: 0.164,
  multitask: 0.077,
  pretrain: 0.076,
  finetune: 0.0665,
  evalInstance: 0.00109,
} as const;

/** Evaluated instances per model pass on the embedded suite (compositional-v2: 166 seen tasks with 16 new instances, 153 + 16 held-out tasks with 32 and 24), by evaluation setting. */
function evalInstances(c: TagiConfig, split: string): number {
  const cap = (n: number) => Math.min(n, c.prompt.maxEvalInstancesPerTask);
  if (split === 'seen-train') return 166 * Math.min(c.eval.seenTrainInstancesPerTask, c.prompt.maxInstancesPerTask);
  if (split === 'seen-new') return 166 * cap(16);
  if (split === 'heldout') return 153 * cap(32) + 16 * cap(24);
  return 0;
}

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
  const perPass = c.eval.splits.reduce((n, s) => n + evalInstances(c, s), 0);
  const stages = [
    { stage: 'data', updates: 1, per: r.data },
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
