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
// - Redis unreachable or refusing the login at start (no password, a wrong one, TLS): exit 2 with the cause
//   (probeQueue); a login refused later (the password changed): the worker stops and exits 2.
// - a stop while Redis is down: the running job's current step and checkpoint finish (no Redis needed), then
//   Redis gets REDIS_GRACE_SECONDS to take the job back and close; after that the worker exits without it
//   (the job returns to the queue when its lock expires, and resumes from its checkpoint).
// - one process, one job at a time: tfjs runs one op at a time per process and the base model is shared
//   by the jobs of a run (train/eval mode); --concurrency N starts N processes instead.
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { DelayedError, type Job, Worker } from 'bullmq';
import { InterruptedError } from '../common/errors.js';
import { QUEUE_PASSWORD_ENV, REDIS_GRACE_SECONDS, type WorkerInvocation, redact } from './cli.js';
import { type RunContext, contextFor, needsLoad } from './context.js';
import { runEvalJob } from './eval.js';
import {
  type JobData,
  type JobProgress,
  type JobResult,
  QUEUE_NAME,
  QueueConnectError,
  connection,
  explainRedisError,
  isLoginRefused,
  probeQueue,
} from './jobs.js';
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

/** Whether `p` settles within `ms` (it keeps running either way; its rejection is not ours to report). */
export function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  return Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    late,
  ]).finally(() => clearTimeout(timer));
}

/** Runs `--concurrency` child workers, forwarding their output and our stop signals; resolves when all have exited. */
async function runChildren(inv: WorkerInvocation): Promise<void> {
  await probeQueue(inv.queue); // one clear failure here rather than one per child
  const script = process.argv[1] as string;
  // the password goes to the children in their environment, never on a command line (`ps` shows those)
  const env = inv.queue.password !== undefined ? { ...process.env, [QUEUE_PASSWORD_ENV]: inv.queue.password } : process.env;
  const args = [
    'worker',
    `--queue=${inv.queue.urlWithoutPassword}`,
    '--concurrency=1',
    `--lock-seconds=${inv.lockSeconds}`,
    ...(inv.allowNonFinite ? ['--allow-non-finite'] : []),
  ];
  const children = Array.from({ length: inv.concurrency }, (_, i) => {
    // its own process group: a terminal's Ctrl-C reaches this process only, which stops each child once
    // (a child signalled twice would quit at once instead of handing its job back)
    const child = spawn(process.execPath, [...process.execArgv, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
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
  // all children refused the same way (Redis gone, login refused): the user's problem, exit 2 as a child does
  if (bad.length > 0)
    throw new InterruptedError(
      `${bad.length} of ${codes.length} worker processes exited with errors (codes ${bad.join(', ')})`,
      bad.every((c) => c === 2) ? 2 : 1,
    );
}

export async function runWorker(inv: WorkerInvocation): Promise<void> {
  if (inv.concurrency > 1) return runChildren(inv);
  await probeQueue(inv.queue);
  const name = `${hostname()}:${process.pid}`;
  const say = (m: string) => inv.io.stdout.write(`worker ${name}: ${redact(inv.queue, m)}\n`);
  const stop = new AbortController();
  let ctx: RunContext | undefined;
  /** The running job's own work (loading, training, checkpoints: no Redis in it); undefined between jobs. */
  let computing: Promise<unknown> | undefined;

  const process_ = async (job: Job<JobData, JobResult>, token?: string): Promise<JobResult> => {
    const d = job.data;
    const label = d.kind === 'teacher' ? d.stage : `eval/${d.split}/${d.taskId}`;
    const t0 = performance.now();
    say(`${label}: started (job ${job.id}, attempt ${job.attemptsStarted}${job.stalledCounter > 0 ? `, after ${job.stalledCounter} stalled worker(s)` : ''})`);
    await job.log(`${new Date().toISOString()} ${name}: started`);
    let lastReport = 0;
    const hooks = {
      signal: stop.signal,
      queueUrl: inv.queue.url,
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
      const work = (async () => {
        // contextFor disposes the previous run's context when it loads another: never keep a reference to it
        const previous = ctx;
        ctx = undefined;
        ctx = await contextFor(previous, d, (m) => say(m));
        return d.kind === 'teacher' ? runTeacherJob(ctx, d, hooks) : runEvalJob(ctx, d, hooks);
      })();
      computing = work;
      let r: Awaited<typeof work>;
      try {
        r = await work;
      } finally {
        computing = undefined;
      }
      if (r === 'stopped') {
        // back to the queue now, not after the lock expires; DelayedError tells BullMQ this is no failure
        const handed = await settlesWithin(job.moveToDelayed(Date.now(), token), REDIS_GRACE_SECONDS * 1000);
        say(
          handed
            ? `${label}: stopped; handed back to the queue`
            : `${label}: stopped; Redis did not take it back within ${REDIS_GRACE_SECONDS} s: it returns to the queue when its lock expires (${inv.lockSeconds} s) and resumes from its checkpoint`,
        );
        throw new DelayedError();
      }
      const how =
        r.kind === 'teacher' && r.status === 'exists'
          ? 'already written, nothing to do'
          : `done in ${((performance.now() - t0) / 1000).toFixed(1)} s${r.kind === 'teacher' ? ` (steps ${r.resumedFrom + 1}..${ctx?.config.teachers.train.steps}${r.resumedFrom > 0 ? ' after resuming' : ''})` : ''}`;
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
  /** A refused login after the start (the password changed): it does not heal by reconnecting. */
  let refused: QueueConnectError | undefined;
  let refusedNow: () => void = () => undefined;
  worker.on('error', (e) => {
    if (isLoginRefused(e)) {
      refused ??= new QueueConnectError(explainRedisError(inv.queue, e));
      refusedNow();
      return;
    }
    // ioredis reports every failed reconnect: say it once per outage
    if (e.message !== lastError)
      say(`queue ${inv.queue.url}: ${e.message}${/ECONNREFUSED|ECONNRESET|Connection is closed/.test(e.message) ? ' (reconnecting)' : ''}`);
    lastError = e.message;
  });
  worker.on('ready', () => {
    if (lastError !== '') say(`queue ${inv.queue.url}: connected again`);
    lastError = '';
  });
  await worker.waitUntilReady();
  say(`waiting for jobs on ${inv.queue.url} (queue '${QUEUE_NAME}'; lock ${inv.lockSeconds} s)`);

  await new Promise<void>((resolve) => {
    refusedNow = resolve;
    if (inv.io.signal?.aborted || refused) resolve();
    inv.io.signal?.addEventListener('abort', () => resolve());
  });
  say(`stopping${refused ? `: ${refused.message}` : ''}: the running job (if any) is checkpointed and handed back to the queue`);
  stop.abort();
  // the job's current step and its checkpoint need no Redis; only what follows is bounded by it (closing
  // waits for the job to be handed back, which has the same deadline: REDIS_GRACE_SECONDS in all)
  await computing?.catch(() => undefined);
  if (!(await settlesWithin(worker.close(), REDIS_GRACE_SECONDS * 1000))) {
    say(
      `queue ${inv.queue.url} did not answer within ${REDIS_GRACE_SECONDS} s; exiting without it (a job not handed back returns to the queue when its lock expires)`,
    );
    void worker.disconnect().catch(() => undefined);
  }
  ctx?.dispose();
  if (refused) throw refused;
  throw new InterruptedError('worker stopped', inv.io.stopExitCode?.() ?? 130);
}
