// Stage 1 on the queue: one job per teacher bank (stages/teachers.ts: teachers.bankSize groups trained
// together). The worker side trains exactly what the single process trains for that bank (same examples,
// objective, seed, optimiser, schedule, clipping and checkpoint dir), so its adapters are the
// single-process ones bit for bit — queue.test.ts compares the bytes. The enqueuer side records each bank
// in the run state as it lands, as the single process does.
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { saveAdapter } from '@tagi/lora/node';
import { DirCheckpointStore } from '@tagi/tensor-core/node';
import type { TaskData } from '../data/tasks.js';
import { CliError } from '../common/errors.js';
import { teacherDirName } from '../data/models.js';
import { type Run, configHash, slug } from '../run/run.js';
import { TEACHERS_DIR, type TeacherBank, saveBank, teacherBankObjective, teacherBanks, teacherDir } from '../stages/teachers.js';
import { fitStage } from '../run/train.js';
import type { QueueTarget } from './cli.js';
import { type RunContext, QueueJobError } from './context.js';
import { type JobSpec, closeQueue, enqueue, failedJobsError, openQueue, waitForJobs } from './enqueue.js';
import { type JobData, type TeacherJobData, type TeacherJobResult, jobId, runId } from './jobs.js';

/** Checkpoint dir (relative to the run) of a bank — the single process's (train.ts). */
const checkpointsOf = (bank: TeacherBank) => ['checkpoints', ...slug(bank.stage).split('/')].join('/');

const isAdapterDir = (dir: string) => existsSync(path.join(dir, 'adapter_config.json')) && existsSync(path.join(dir, 'adapter_model.safetensors'));
const isBankWritten = (runDir: string, bank: TeacherBank) => bank.groups.every((g) => isAdapterDir(path.join(runDir, teacherDir(g))));

/** The bank a job names, as the data of the run cuts them now; an error when the data no longer has it. */
function bankOf(ctx: RunContext, job: TeacherJobData): TeacherBank {
  const bank = teacherBanks(ctx.config, ctx.data).find((b) => b.stage === job.stage);
  if (bank === undefined || bank.groups.join('\u0000') !== job.groups.join('\u0000')) {
    throw new QueueJobError(
      `teacher bank '${job.stage}' (${job.groups.length} groups from '${job.groups[0] ?? ''}') is not a bank of the data of ${ctx.runDir} (--data=${ctx.config.data})`,
    );
  }
  return bank;
}

export interface JobHooks {
  readonly signal: AbortSignal;
  /** The queue as `--queue=` shows it (password masked), for the commands a failed job's message gives. */
  readonly queueUrl: string;
  progress(step: number, total: number, loss?: number): void;
  log(message: string): void;
}

/** Trains one bank of teachers on a worker. 'stopped': the worker is stopping (checkpoint saved); the job goes back to the queue. */
export async function runTeacherJob(ctx: RunContext, job: TeacherJobData, h: JobHooks): Promise<TeacherJobResult | 'stopped'> {
  const t0 = performance.now();
  const { config: c, data, tok, model } = ctx;
  const bank = bankOf(ctx, job);
  if (isBankWritten(ctx.runDir, bank)) return { kind: 'teacher', status: 'exists', seconds: 0, resumedFrom: 0 };
  const { objective } = teacherBankObjective(model, c, data, tok, bank);
  // the single process's checkpoint dir: a job retried after a crash resumes there (exact resume), and
  // so does a single-process --resume of a run whose queue was abandoned
  const store = new DirCheckpointStore(path.join(ctx.runDir, checkpointsOf(bank)), { onWarning: (m) => h.log(`warning: ${m}`) });
  const s = c.teachers;
  try {
    model.train();
    // the single process's driver (run/train.ts): the same optimiser, clipping, micro-batches, recomputation and checkpoints
    const result = await fitStage(
      c,
      bank.stage,
      objective,
      s.train,
      {
        store,
        // also makes fit yield to the event loop once per update, so BullMQ renews the job's lock
        signal: h.signal,
        resumeCommand: `tagi teachers --resume --run-dir=${ctx.runDir} --queue=${h.queueUrl}`,
        onStart: (resumedFrom) => {
          if (resumedFrom > 0) h.log(`resuming from the checkpoint of step ${resumedFrom}`);
        },
        onStep: (r) => h.progress(r.step, r.totalSteps, r.loss),
        // as the single process says it: the job fails once, with what to run instead
        divergenceError: (message) => new QueueJobError(message),
      },
      model,
    );
    if (result.aborted) return 'stopped';
    // each teacher written whole under a temporary name, then renamed: readers never see half a teacher, and
    // of two workers that trained the same bank (a job whose lock was lost) the second finds it written
    let existed = false;
    await saveBank(bank, objective.bank, async (dir, adapter) => {
      const out = path.join(ctx.runDir, dir);
      const tmp = path.join(ctx.runDir, TEACHERS_DIR, `.${path.basename(dir)}.tmp-${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`);
      await saveAdapter(tmp, adapter);
      try {
        renameSync(tmp, out);
      } catch (e) {
        rmSync(tmp, { recursive: true, force: true });
        const code = (e as NodeJS.ErrnoException).code;
        if ((code === 'ENOTEMPTY' || code === 'EEXIST') && isAdapterDir(out)) existed = true;
        else throw e;
      }
    });
    return {
      kind: 'teacher',
      status: existed ? 'exists' : 'trained',
      seconds: (performance.now() - t0) / 1000,
      resumedFrom: result.resumedFrom,
      ...(result.last ? { finalLoss: result.last.loss } : {}),
    };
  } finally {
    objective.bank.dispose();
    model.eval();
  }
}

/** The specs of the teacher jobs of `run` not yet done (one per bank). */
export function teacherJobSpecs(run: Run, data: TaskData, backend: JobData['backend']): JobSpec<TeacherJobData, TeacherJobResult>[] {
  const hash = configHash(run.config);
  const rid = runId(run.dir);
  return teacherBanks(run.config, data)
    .filter((b) => !run.isDone(b.stage))
    .map((bank) => ({
      id: jobId('teacher', rid, hash, bank.stage),
      label: bank.stage,
      data: { kind: 'teacher' as const, runDir: run.dir, configHash: hash, backend, stage: bank.stage, groups: [...bank.groups] },
      // a teacher removed since its job completed is trained again
      stale: () => !isBankWritten(run.dir, bank),
    }));
}

/**
 * `tagi teachers --queue`: enqueues the banks not done yet, waits for all of them (recording each in
 * trainer_state.json as the single process does) and throws, naming every failed job, if any failed.
 */
export async function queueTeachers(run: Run, data: TaskData, q: QueueTarget, backend: JobData['backend']): Promise<void> {
  const c = run.config;
  const specs = teacherJobSpecs(run, data, backend);
  if (specs.length === 0) return;
  const banks = new Map(teacherBanks(c, data).map((b) => [b.stage, b]));
  // every queued bank is a running stage with its checkpoint dir: a crash of this command, then a
  // single-process --resume, continues from the workers' checkpoints
  for (const s of specs) await run.beginStage(s.data.stage, c.teachers.train.steps, checkpointsOf(banks.get(s.data.stage) as TeacherBank));
  const queue = openQueue(q);
  try {
    await enqueue(queue, specs);
    const failures = await waitForJobs(run, q, queue, 'teachers', specs, async (spec, r) => {
      const bank = banks.get(spec.data.stage) as TeacherBank;
      const missing = bank.groups.find((g) => !isAdapterDir(run.path(teacherDir(g))));
      if (missing !== undefined)
        throw new CliError(
          `${spec.label}: the job completed but ${run.path(teacherDir(missing))} holds no adapter; does this machine see the workers' run dir?`,
        );
      // a worker killed between writing its temporary copy and the rename leaves it behind: never a teacher
      const prefixes = bank.groups.map((g) => `.${teacherDirName(g)}.tmp-`);
      for (const n of readdirSync(run.path(TEACHERS_DIR)))
        if (prefixes.some((p) => n.startsWith(p))) rmSync(run.path(TEACHERS_DIR, n), { recursive: true, force: true });
      await run.finishStage(bank.stage, {
        outputs: bank.groups.map((group) => ({ role: 'teacher', kind: 'peft' as const, path: teacherDir(group), name: group })),
        seconds: r.seconds,
        ...(r.finalLoss !== undefined ? { summary: { finalLoss: Number(r.finalLoss.toPrecision(4)) } } : {}),
      });
    });
    if (failures.length > 0) throw failedJobsError(run, q, 'teachers', specs.length, failures);
  } finally {
    await closeQueue(queue);
  }
}
