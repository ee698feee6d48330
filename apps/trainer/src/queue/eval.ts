// Evaluation on the queue: one job per (evaluation setting, task) of `tagi eval`. A worker predicts every
// model method on its task's rows with stages/evaluate.ts predictRows — the function the single process
// runs over a whole setting; the enqueuer concatenates the predictions in the setting's task order (the
// order of rowsOf) and scores and reports them with the single process's own code (scoreEvaluation,
// then commands.ts finishReport), so results.json/results.md hold the single-process scores
// (queue.test.ts compares them).
//
// A worker batches one task's instances, the single process a whole setting's: the batches differ, the
// predictions do not (padding is masked; queue.test.ts checks the scores equal on the cpu backend).
// Wall clock is the workers' measured time per method; FLOPs come from the workers (they need the models).
import { type EvalSet, type EvalSplit, type TaskData } from '../data/tasks.js';
import { CliError } from '../common/errors.js';
import { evalPlan, finishReport } from '../stages/report.js';
import { type Run, configHash } from '../run/run.js';
import {
  type MethodPredictions,
  type PredictEnv,
  type SetPredictions,
  methodFlops,
  predictRows,
  scoreEvaluation,
  taskRows,
  wrongInstructions,
} from '../stages/evaluate.js';
import type { QueueTarget } from './cli.js';
import { type RunContext, QueueJobError, evalModels } from './context.js';
import { type JobSpec, closeQueue, enqueue, failedJobsError, openQueue, waitForJobs } from './enqueue.js';
import { type EvalJobData, type EvalJobResult, type JobData, jobId, runId } from './jobs.js';
import type { JobHooks } from './teachers.js';

/** Thrown between batches when the worker is stopping: the job goes back to the queue. */
class JobStopped extends Error {
  override readonly name = 'JobStopped';
}

const yieldNow = () => new Promise<void>((r) => setImmediate(r));

/** Predicts every model method of the run on one task of one evaluation setting. 'stopped': the worker is stopping. */
export async function runEvalJob(ctx: RunContext, job: EvalJobData, h: JobHooks): Promise<EvalJobResult | 'stopped'> {
  const { config: c, data, tok, model } = ctx;
  const set = data.evalSets.find((s) => s.split === job.split);
  const task = set?.tasks.find((t) => t.taskId === job.taskId);
  if (task === undefined) throw new QueueJobError(`evaluation task '${job.taskId}' (${job.split}) is not in the data of ${ctx.runDir} (--data=${c.data})`);
  const models = { model, ...(await evalModels(ctx)) };
  const rows = taskRows(task);
  const controls = c.eval.controls ? 2 * models.hypernets.filter((h) => h.method === 'tagi').length : 0;
  const total = Math.ceil(rows.length / c.eval.batchSize) * (1 + (models.multitask ? 1 : 0) + models.hypernets.length + controls);
  let done = 0;
  const env: PredictEnv = {
    config: c,
    async yieldAndCheckStop() {
      await yieldNow();
      if (h.signal.aborted) throw new JobStopped('worker stopping');
      // called before each batch (and each task group): progress is approximate, never past the total
      h.progress(Math.min(done++, total), total);
    },
  };
  let methods: MethodPredictions[];
  try {
    // the wrong-instruction control draws from the whole setting, as the single process does
    methods = await predictRows(env, tok, models, rows, undefined, set && set.tasks.length > 1 ? wrongInstructions(set, c.seed) : undefined);
  } catch (e) {
    if (e instanceof JobStopped) return 'stopped';
    throw e;
  }
  h.progress(total, total);
  // the same for every task of the run (it tokenises all held-out rows): computed once per loaded run
  ctx.evalFlops ??= methodFlops(c, tok, data, models);
  return { kind: 'eval', split: job.split, taskId: job.taskId, methods, flops: ctx.evalFlops };
}

/** The jobs' units in the order the single process predicts them: settings in order, each setting's tasks in order. */
export function evalUnits(data: TaskData): { split: EvalSplit; taskId: string }[] {
  return data.evalSets.flatMap((s) => s.tasks.map((t) => ({ split: s.split, taskId: t.taskId })));
}

const unitKey = (split: string, taskId: string) => `${split}/${taskId}`;

/**
 * The per-task job results merged into the single process's shape: per setting, every method's
 * predictions concatenated in task order (= rowsOf order) and its wall clock summed. Methods are in the
 * order of the setting's first task (every job predicts the same methods: they come from the run's config).
 */
export function mergeEval(data: TaskData, byUnit: ReadonlyMap<string, EvalJobResult>): SetPredictions[] {
  return data.evalSets.map((set: EvalSet) => {
    const results = set.tasks.map((t) => {
      const r = byUnit.get(unitKey(set.split, t.taskId));
      if (r === undefined) throw new CliError(`eval: no result for task '${t.taskId}' (${set.split})`);
      if (r.methods.some((m) => m.predictions.length !== t.instances.length)) {
        throw new CliError(
          `eval: the worker's predictions for '${t.taskId}' (${set.split}) are not one per instance of this command's data; a worker saw other data than this command`,
        );
      }
      return r;
    });
    const names = (r: EvalJobResult) => r.methods.map((m) => `${m.method}/${m.seed}`).join(',');
    const first = results[0];
    if (first !== undefined && results.some((r) => names(r) !== names(first)))
      throw new CliError(`eval: workers predicted different methods for the tasks of ${set.split}; a worker saw another config`);
    const methods: MethodPredictions[] = (first?.methods ?? []).map((m, i) => ({
      method: m.method,
      seed: m.seed,
      predictions: results.flatMap((r) => [...(r.methods[i]?.predictions ?? [])]),
      ms: results.reduce((s, r) => s + (r.methods[i]?.ms ?? 0), 0),
    }));
    return { set, methods };
  });
}

/**
 * `tagi eval --queue`: one job per (setting, task), then the 'eval' stage and results of `tagi eval`
 * from the merged predictions, scored and written by the single process's code.
 */
export async function queueEval(run: Run, data: TaskData, q: QueueTarget, backend: JobData['backend'], t0: number, load0: number[] | null): Promise<void> {
  const hash = configHash(run.config);
  const rid = runId(run.dir);
  run.checkStop();
  run.progress.info('== (f) evaluation: every method on every evaluation setting (queued: one job per task and setting)');
  await run.beginStage('eval', 0);
  run.metrics.truncate('eval', 0);
  const te = performance.now();
  const specs: JobSpec<EvalJobData, EvalJobResult>[] = evalUnits(data).map(({ split, taskId }) => ({
    id: jobId('eval', rid, hash, `${split}.${taskId}`),
    label: `eval/${unitKey(split, taskId)}`,
    data: { kind: 'eval', runDir: run.dir, configHash: hash, backend, split, taskId },
  }));
  const byUnit = new Map<string, EvalJobResult>();
  const queue = openQueue(q);
  try {
    await enqueue(queue, specs);
    const failures = await waitForJobs(run, q, queue, 'eval', specs, async (spec, r) => {
      byUnit.set(unitKey(spec.data.split, spec.data.taskId), r);
    });
    if (failures.length > 0) throw failedJobsError(run, q, 'eval', specs.length, failures);
  } finally {
    await closeQueue(queue);
  }
  const flops = [...byUnit.values()][0]?.flops ?? {};
  const evaluation = scoreEvaluation(run.progress, data, mergeEval(data, byUnit), flops);
  await finishReport(run, { backend, t0, load0 }, data, evaluation, evalPlan(run.config), te);
}
