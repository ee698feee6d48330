// `tagi worker`: a BullMQ worker that takes teacher and eval jobs of any run from the queue.
//
// Faults, and what handles them:
// - a job that throws (bad data, a missing file): failed once (attempts: 1), its error kept in Redis for
//   the enqueuing command; other jobs go on.
// - this process killed (kill -9, machine lost): its lock expires after --lock-seconds, another worker's
//   stalled-job check puts the job back in the queue (at most MAX_STALLED times, then it fails), and
//   the next worker resumes from the teacher's checkpoints — same bytes as an uninterrupted run.
// - Ctrl-C / SIGTERM: the running job stops at its next update (training saves a checkpoint) and is
//   handed back to the queue at once (moveToDelayed + DelayedError: not a failure), then we exit.
// - Redis restarts: ioredis reconnects and the worker carries on (connection(): maxRetriesPerRequest null).
// - one process, one job at a time: tfjs runs one op at a time per process and the base model is shared
//   by the jobs of a run (train/eval mode); --concurrency N starts N processes instead.
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { DelayedError, type Job, Worker } from 'bullmq';
import { InterruptedError } from '../errors.js';
import type { WorkerInvocation } from './cli.js';
import { type RunContext, contextFor, needsLoad } from './context.js';
import { runEvalJob } from './eval.js';
import { type JobData, type JobProgress, type JobResult, QUEUE_NAME, connection } from './jobs.js';
import { runTeacherJob } from './teachers.js';

/** A killed worker's job is given to another worker this many times before it fails (a job that kills every worker is not retried forever). */
export const MAX_STALLED = 2;
/**
 * Lock held while a job loads its run (data, tokenizer, model: synchronous work that blocks the event
 * loop, so BullMQ cannot renew the lock meanwhile). Without it a slow load loses the lock, the job is
 * handed to a second worker and trained twice (measured under load with a 3 s lock). The normal lock
 * comes back with the first renewal after the load.
 */
const LOAD_LOCK_MS = 10 * 60 * 1000;

/** Runs `--concurrency` child workers, forwarding their output and our stop signals; resolves when all have exited. */
async function runChildren(inv: WorkerInvocation): Promise<void> {
  const script = process.argv[1] as string;
  const children = Array.from({ length: inv.concurrency }, (_, i) => {
    // its own process group: a terminal's Ctrl-C reaches this process only, which stops each child once
    // (a child signalled twice would quit at once instead of handing its job back)
    const child = spawn(process.execPath, [...process.execArgv, script, 'worker', `--queue=${inv.queue.url}`, '--concurrency=1', `--lock-seconds=${inv.lockSeconds}`], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (child.stdout) createInterface({ input: child.stdout }).on('line', (l) => inv.io.stdout.write(`[${i + 1}] ${l}\n`));
    if (child.stderr) createInterface({ input: child.stderr }).on('line', (l) => inv.io.stderr.write(`[${i + 1}] ${l}\n`));
    return child;
  });
  inv.io.signal?.addEventListener('abort', () => {
    for (const c of children) c.kill('SIGTERM');
  });
  const codes = await Promise.all(children.map((c) => new Promise<number>((r) => c.on('exit', (code, sig) => r(code ?? (sig ? 128 : 1))))));
  if (inv.io.signal?.aborted) throw new InterruptedError('worker stopped: running jobs were handed back to the queue', inv.io.stopExitCode?.() ?? 130);
  const bad = codes.filter((c) => c !== 0);
  if (bad.length > 0) throw new InterruptedError(`${bad.length} of ${codes.length} worker processes exited with errors (codes ${bad.join(', ')})`, 1);
}

export async function runWorker(inv: WorkerInvocation): Promise<void> {
  if (inv.concurrency > 1) return runChildren(inv);
  const name = `${hostname()}:${process.pid}`;
  const say = (m: string) => inv.io.stdout.write(`worker ${name}: ${m}\n`);
  const stop = new AbortController();
  let ctx: RunContext | undefined;

  const process_ = async (job: Job<JobData, JobResult>, token?: string): Promise<JobResult> => {
    const d = job.data;
    const label = d.kind === 'teacher' ? `teachers/${d.group}` : `eval/${d.split}/${d.taskId}`;
    const t0 = performance.now();
    say(`${label}: started (job ${job.id}, attempt ${job.attemptsStarted}${job.stalledCounter > 0 ? `, after ${job.stalledCounter} stalled worker(s)` : ''})`);
    await job.log(`${new Date().toISOString()} ${name}: started`);
    let lastReport = 0;
    const hooks = {
      signal: stop.signal,
      // progress goes to Redis at most 5 times a second, and always for the last step
      progress: (step: number, total: number, loss?: number) => {
        const now = performance.now();
        if (step !== total && now - lastReport < 200) return;
        lastReport = now;
        const p: JobProgress = { step, total, worker: name, ...(loss !== undefined ? { loss } : {}) };
        void job.updateProgress(p as unknown as object).catch(() => undefined);
      },
      log: (m: string) => {
        say(`${label}: ${m}`);
        void job.log(`${new Date().toISOString()} ${name}: ${m}`).catch(() => undefined);
      },
    };
    try {
      if (token !== undefined && needsLoad(ctx, d)) await job.extendLock(token, Math.max(inv.lockSeconds * 1000, LOAD_LOCK_MS));
      // contextFor disposes the previous run's context when it loads another: never keep a reference to it
      const previous = ctx;
      ctx = undefined;
      ctx = await contextFor(previous, d, (m) => say(m));
      const r = d.kind === 'teacher' ? await runTeacherJob(ctx, d, hooks) : await runEvalJob(ctx, d, hooks);
      if (r === 'stopped') {
        // back to the queue now, not after the lock expires; DelayedError tells BullMQ this is no failure
        await job.moveToDelayed(Date.now(), token);
        say(`${label}: stopped; handed back to the queue`);
        throw new DelayedError();
      }
      const how =
        r.kind === 'teacher' && r.status === 'exists'
          ? 'already written, nothing to do'
          : `done in ${((performance.now() - t0) / 1000).toFixed(1)} s${r.kind === 'teacher' ? ` (steps ${r.resumedFrom + 1}..${ctx.config.teachers.train.steps}${r.resumedFrom > 0 ? ' after resuming' : ''})` : ''}`;
      say(`${label}: ${how}`);
      await job.log(`${new Date().toISOString()} ${name}: ${how}`);
      return r;
    } catch (e) {
      if (!(e instanceof DelayedError)) say(`${label}: failed: ${(e as Error).message}`);
      throw e;
    }
  };

  const worker = new Worker<JobData, JobResult>(QUEUE_NAME, process_, {
    connection: connection(inv.queue, 'worker'),
    name,
    concurrency: 1,
    lockDuration: inv.lockSeconds * 1000,
    // the stalled check runs in every live worker; a dead worker's job is noticed within lock + interval
    stalledInterval: Math.max(1000, Math.min(30_000, (inv.lockSeconds * 1000) / 2)),
    maxStalledCount: MAX_STALLED,
  });
  let lastError = '';
  worker.on('error', (e) => {
    // ioredis reports every failed reconnect: say it once per outage
    if (e.message !== lastError) say(`queue ${inv.queue.url}: ${e.message}${/ECONNREFUSED|ECONNRESET|Connection is closed/.test(e.message) ? ' (reconnecting)' : ''}`);
    lastError = e.message;
  });
  worker.on('ready', () => {
    if (lastError !== '') say(`queue ${inv.queue.url}: connected again`);
    lastError = '';
  });
  await worker.waitUntilReady();
  say(`waiting for jobs on ${inv.queue.url} (queue '${QUEUE_NAME}'; lock ${inv.lockSeconds} s)`);

  await new Promise<void>((resolve) => {
    if (inv.io.signal?.aborted) resolve();
    inv.io.signal?.addEventListener('abort', () => resolve());
  });
  say('stopping: the running job (if any) is checkpointed and handed back to the queue');
  stop.abort();
  await worker.close();
  ctx?.dispose();
  throw new InterruptedError('worker stopped', inv.io.stopExitCode?.() ?? 130);
}
