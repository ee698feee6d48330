// The demo as a pipeline of stages with explicit inputs and outputs. A stage runs when its libraries are
// present and its inputs were produced; otherwise it is reported unavailable with the reason. Finished
// stages are recorded in trainer_state.json; on --resume they reload their outputs instead of re-running.
import { type Requirements, missingExports } from './availability.js';
import { StageUnavailableError } from './errors.js';
import { type RunContext, checkInterrupted, isStageDone, markStageDone } from './run.js';

export interface StageOutcome {
  id: string;
  status: 'done' | 'unavailable' | 'skipped';
  reason?: string;
  seconds?: number;
}

export interface PipelineStage<S> {
  readonly id: string;
  readonly title: string;
  /** Library exports the stage calls. */
  readonly requires: Requirements;
  /** Stages whose outputs this one reads. */
  readonly after: readonly string[];
  /** Skip (not an error) when this returns a reason, e.g. 'a --model was given'. */
  skip?(ctx: RunContext, s: S): string | undefined;
  /**
   * Runs the stage, or (when `done` is true, on --resume) reloads its outputs from the run dir.
   * Returns the outputs (relative paths) and summary numbers recorded in trainer_state.json.
   */
  run(ctx: RunContext, s: S, done: boolean): Promise<{ outputs?: Record<string, string>; summary?: Record<string, number | string> } | void>;
}

export async function runPipeline<S>(ctx: RunContext, stages: readonly PipelineStage<S>[], state: S): Promise<StageOutcome[]> {
  const outcomes = new Map<string, StageOutcome>();
  for (const stage of stages) {
    checkInterrupted(ctx);
    const skipReason = stage.skip?.(ctx, state);
    if (skipReason !== undefined) {
      outcomes.set(stage.id, { id: stage.id, status: 'skipped', reason: skipReason });
      ctx.progress.info(`== ${stage.title}: skipped (${skipReason})`);
      continue;
    }
    const blocked = stage.after.filter((d) => outcomes.get(d)?.status === 'unavailable');
    const missing = blocked.length > 0 ? [] : await missingExports(stage.requires);
    if (blocked.length > 0 || missing.length > 0) {
      const reason = blocked.length > 0 ? `needs stage ${blocked.join(', ')}` : `missing ${missing.join(', ')}`;
      outcomes.set(stage.id, { id: stage.id, status: 'unavailable', reason });
      ctx.progress.info(`== ${stage.title}: UNAVAILABLE (${reason})`);
      continue;
    }
    const done = isStageDone(ctx, stage.id);
    ctx.progress.info(`== ${stage.title}${done ? ' (done before; reloading outputs)' : ''}`);
    const t0 = performance.now();
    try {
      const r = await stage.run(ctx, state, done);
      if (!done) await markStageDone(ctx, stage.id, r?.outputs ?? {}, r?.summary ?? {});
      outcomes.set(stage.id, { id: stage.id, status: 'done', seconds: (performance.now() - t0) / 1000 });
    } catch (e) {
      if (e instanceof StageUnavailableError) {
        outcomes.set(stage.id, { id: stage.id, status: 'unavailable', reason: e.message });
        ctx.progress.info(`== ${stage.title}: UNAVAILABLE (${e.message})`);
        continue;
      }
      throw e;
    }
  }
  return [...outcomes.values()];
}
