// Stage 1 on the queue: one job per teacher group. The worker side trains exactly what
// stages/teachers.ts trains for that group (same examples, objective, seed, optimiser, schedule, clipping
// and checkpoint dir), so the adapter is the single-process one bit for bit — queue.test.ts compares the
// bytes. The enqueuer side records each teacher in the run state as it lands, as the single process does.
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Task } from '@tagi/datasets';
import { saveAdapter } from '@tagi/lora/node';
import { DivergenceError, fit } from '@tagi/tensor-core';
import { DirCheckpointStore } from '@tagi/tensor-core/node';
import type { TaskData } from '../data.js';
import { CliError } from '../errors.js';
import { InstructionInputs } from '../instruction.js';
import { teacherDirName } from '../models.js';
import { type Run, configHash, slug } from '../run.js';
import { TEACHERS_DIR, loraStageObjective, teacherGroup } from '../stages/teachers.js';
import { divergenceMessage, makeOptimizer, resumeStep } from '../train.js';
import type { QueueTarget } from './cli.js';
import { type RunContext, QueueJobError } from './context.js';
import { type JobSpec, closeQueue, enqueue, failedJobsError, openQueue, waitForJobs } from './enqueue.js';
import { type JobData, type TeacherJobData, type TeacherJobResult, jobId, runId } from './jobs.js';

/** Stage name, output dir and checkpoint dir (relative to the run) of a group — the single-process names. */
export function teacherPaths(group: string): { stage: string; dir: string; checkpoints: string } {
  const stage = `teachers/${teacherDirName(group)}`;
  return { stage, dir: `${TEACHERS_DIR}/${teacherDirName(group)}`, checkpoints: ['checkpoints', ...slug(stage).split('/')].join('/') };
}

const isAdapterDir = (dir: string) => existsSync(path.join(dir, 'adapter_config.json')) && existsSync(path.join(dir, 'adapter_model.safetensors'));

/** The sorted teacher groups of the data (stages/teachers.ts' order). */
export function teacherGroups(run: { config: RunContext['config'] }, data: TaskData): string[] {
  return [...new Set(data.train.map((t) => teacherGroup(run.config, t)))].sort();
}

export interface JobHooks {
  readonly signal: AbortSignal;
  /** The queue as `--queue=` shows it (password masked), for the commands a failed job's message gives. */
  readonly queueUrl: string;
  progress(step: number, total: number, loss?: number): void;
  log(message: string): void;
}

/** Trains one teacher on a worker. 'stopped': the worker is stopping (checkpoint saved); the job goes back to the queue. */
export async function runTeacherJob(ctx: RunContext, job: TeacherJobData, h: JobHooks): Promise<TeacherJobResult | 'stopped'> {
  const t0 = performance.now();
  const { config: c, data, tok, model } = ctx;
  const p = teacherPaths(job.group);
  const out = path.join(ctx.runDir, p.dir);
  if (isAdapterDir(out)) return { kind: 'teacher', status: 'exists', seconds: 0, resumedFrom: 0 };
  // the examples of trainTeachers (stages/teachers.ts) for this group, in the same order
  const groupOfTask = new Map(data.train.map((t) => [t.taskId, teacherGroup(c, t)]));
  if (![...groupOfTask.values()].includes(job.group)) throw new QueueJobError(`teacher group '${job.group}' has no training task in the data of ${ctx.runDir} (--data=${c.data})`);
  const inputs = new InstructionInputs(tok, c.prompt.numPos, c.prompt.maxSourceLength);
  const examples = data.trainExamples
    .filter((e) => groupOfTask.get(e.taskId) === job.group)
    .map((e) => ({ input: inputs.concatenatedIds(data.byId.get(e.taskId) as Task, e.studentInput), target: tok.encode(e.outputs[0] ?? '', { maxLength: c.prompt.maxTargetLength }) }));
  const s = c.teachers;
  const objective = loraStageObjective(model, examples, tok, s, c.seed, p.stage);
  // the single process's checkpoint dir: a job retried after a crash resumes there (exact resume), and
  // so does a single-process --resume of a run whose queue was abandoned
  const store = new DirCheckpointStore(path.join(ctx.runDir, p.checkpoints), { onWarning: (m) => h.log(`warning: ${m}`) });
  const optimizer = makeOptimizer(objective.params, s.train, c.optim);
  try {
    model.train();
    const result = await fit({
      ...objective,
      name: p.stage,
      optimizer,
      steps: s.train.steps,
      maxGradNorm: c.optim.maxGradNorm,
      checkpoints: store,
      ...(c.checkpointEvery > 0 ? { checkpointEvery: c.checkpointEvery } : {}),
      // also makes fit yield to the event loop once per update, so BullMQ renews the job's lock
      signal: h.signal,
      onStart: ({ resumedFrom }) => {
        if (resumedFrom > 0) h.log(`resuming from the checkpoint of step ${resumedFrom}`);
      },
      onStep: (r) => h.progress(r.step, r.totalSteps, r.loss),
    }).catch(async (e: unknown) => {
      // as the single process says it (train.ts): the job fails once, with what to run instead
      if (e instanceof DivergenceError) throw new QueueJobError(divergenceMessage(c, e, s.train, await resumeStep(store), `tagi teachers --resume --run-dir=${ctx.runDir} --queue=${h.queueUrl}`));
      throw e;
    });
    if (result.aborted) return 'stopped';
    // written whole under a temporary name, then renamed: readers never see half a teacher, and of two
    // workers that trained the same group (a job whose lock was lost) the second finds it written
    const tmp = path.join(ctx.runDir, TEACHERS_DIR, `.${teacherDirName(job.group)}.tmp-${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`);
    await saveAdapter(tmp, objective.adapter);
    try {
      renameSync(tmp, out);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && isAdapterDir(out)) return { kind: 'teacher', status: 'exists', seconds: (performance.now() - t0) / 1000, resumedFrom: result.resumedFrom };
      throw e;
    }
    return {
      kind: 'teacher',
      status: 'trained',
      seconds: (performance.now() - t0) / 1000,
      resumedFrom: result.resumedFrom,
      ...(result.last ? { finalLoss: result.last.loss } : {}),
    };
  } finally {
    optimizer.dispose();
    objective.adapter.dispose();
    model.eval();
  }
}

/** The specs of the teacher jobs of `run` not yet done (one per group). */
export function teacherJobSpecs(run: Run, data: TaskData, backend: JobData['backend']): JobSpec<TeacherJobData, TeacherJobResult>[] {
  const hash = configHash(run.config);
  const rid = runId(run.dir);
  return teacherGroups(run, data)
    .filter((g) => !run.isDone(teacherPaths(g).stage))
    .map((group) => ({
      id: jobId('teacher', rid, hash, group),
      label: teacherPaths(group).stage,
      data: { kind: 'teacher' as const, runDir: run.dir, configHash: hash, backend, group },
      // a teacher removed since its job completed is trained again
      stale: () => !isAdapterDir(run.path(teacherPaths(group).dir)),
    }));
}

/**
 * `tagi teachers --queue`: enqueues the teachers not done yet, waits for all of them (recording each in
 * trainer_state.json as the single process does) and throws, naming every failed job, if any failed.
 */
export async function queueTeachers(run: Run, data: TaskData, q: QueueTarget, backend: JobData['backend']): Promise<void> {
  const c = run.config;
  const specs = teacherJobSpecs(run, data, backend);
  if (specs.length === 0) return;
  // every queued group is a running stage with its checkpoint dir: a crash of this command, then a
  // single-process --resume, continues from the workers' checkpoints
  for (const s of specs) {
    const p = teacherPaths(s.data.group);
    await run.beginStage(p.stage, c.teachers.train.steps, p.checkpoints);
  }
  const queue = openQueue(q);
  try {
    await enqueue(queue, specs);
    const failures = await waitForJobs(run, q, queue, 'teachers', specs, async (spec, r) => {
      const p = teacherPaths(spec.data.group);
      if (!isAdapterDir(run.path(p.dir))) throw new CliError(`${spec.label}: the job completed but ${run.path(p.dir)} holds no adapter; does this machine see the workers' run dir?`);
      // a worker killed between writing its temporary copy and the rename leaves it behind: never a teacher
      const prefix = `.${teacherDirName(spec.data.group)}.tmp-`;
      for (const n of readdirSync(run.path(TEACHERS_DIR))) if (n.startsWith(prefix)) rmSync(run.path(TEACHERS_DIR, n), { recursive: true, force: true });
      await run.finishStage(p.stage, {
        outputs: [{ role: 'teacher', kind: 'peft', path: p.dir, name: spec.data.group }],
        seconds: r.seconds,
        ...(r.finalLoss !== undefined ? { summary: { finalLoss: Number(r.finalLoss.toPrecision(4)) } } : {}),
      });
    });
    if (failures.length > 0) throw failedJobsError(run, q, 'teachers', specs.length, failures);
  } finally {
    await closeQueue(queue);
  }
}
