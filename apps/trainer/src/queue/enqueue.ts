// The enqueuing side: add one job per task (idempotently), then wait for all of them with progress over
// every worker, recording each finished job in the run as it lands. A failed job is reported at once and
// does not stop the wait for the others; the command fails at the end, naming every failed job and its
// error. Redis going away is waited out (the jobs live in Redis; workers reconnect too).
import { Queue } from 'bullmq';
import { CliError } from '../common/errors.js';
import type { Run } from '../run/run.js';
import { type QueueTarget, REDIS_GRACE_SECONDS, redact } from './cli.js';
import { JOB_OPTIONS, type JobData, type JobProgress, type JobResult, QUEUE_NAME, connection } from './jobs.js';

export interface JobSpec<D extends JobData, R extends JobResult> {
  readonly id: string;
  /** What the user reads: 'teachers/sort', 'eval/task042_…'. */
  readonly label: string;
  readonly data: D;
  /** A completed job from an earlier enqueue whose result is no longer valid (its output was removed): done again. */
  readonly stale?: (result: R) => boolean;
}

export interface WaitOptions {
  /** Poll period, ms. */
  readonly pollMs?: number;
  /** Seconds between progress lines when nothing finishes. */
  readonly reportEverySeconds?: number;
}

/** How `tagi <command> --queue` hands over: the same command with --resume and --queue. */
function resumeHint(run: Run, q: QueueTarget): string {
  return `${run.resumeCommand} --queue=${q.url}`;
}

/** Redis gone or restarting (to wait out), as opposed to a bug or a bad result (to report). */
function redisUnavailable(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return (
    e.name === 'MaxRetriesPerRequestError' ||
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'].includes(code) ||
    /Connection is closed|Stream isn't writeable|LOADING|ECONNREFUSED|ECONNRESET/.test(e.message)
  );
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Opens the queue; the caller closes it. */
export function openQueue(q: QueueTarget): Queue {
  const queue = new Queue(QUEUE_NAME, { connection: connection(q, 'enqueuer') });
  // ioredis reports each failed reconnect as an 'error' event: without a listener Node would crash on it
  queue.on('error', () => undefined);
  return queue;
}

/** Closes the queue, waiting at most REDIS_GRACE_SECONDS for Redis (a stop during an outage must not hang on it). */
export async function closeQueue(queue: Queue): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    queue.close().then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), REDIS_GRACE_SECONDS * 1000))),
  ]);
  clearTimeout(timer);
  if (!closed) void queue.disconnect().catch(() => undefined);
}

/** Adds each job unless a job with its id exists; a failed one is retried, a stale completed one replaced. */
export async function enqueue<D extends JobData, R extends JobResult>(queue: Queue, specs: readonly JobSpec<D, R>[]): Promise<void> {
  for (const s of specs) {
    const existing = await queue.getJob(s.id);
    if (existing !== undefined) {
      const state = await existing.getState();
      if (state === 'failed') {
        await existing.retry('failed');
        continue;
      }
      if (state !== 'completed' || !(s.stale?.(existing.returnvalue as R) ?? false)) continue;
      await existing.remove();
    }
    await queue.add(s.data.kind, s.data, { ...JOB_OPTIONS, jobId: s.id });
  }
}

interface Tracked<D extends JobData, R extends JobResult> {
  spec: JobSpec<D, R>;
  state: string;
  progress?: JobProgress;
}

export interface Failure {
  readonly label: string;
  readonly reason: string;
}

/**
 * Waits until every job has completed or failed. `onDone` runs once per completed job, in completion
 * order (it records the job's output in the run). Throws the run's InterruptedError on a stop (the jobs
 * stay queued); returns the failures.
 */
export async function waitForJobs<D extends JobData, R extends JobResult>(
  run: Run,
  q: QueueTarget,
  queue: Queue,
  title: string,
  specs: readonly JobSpec<D, R>[],
  onDone: (spec: JobSpec<D, R>, result: R) => Promise<void>,
  opts: WaitOptions = {},
): Promise<Failure[]> {
  const pollMs = opts.pollMs ?? 500;
  const reportEvery = (opts.reportEverySeconds ?? 10) * 1000;
  const pending = new Map<string, Tracked<D, R>>(specs.map((s) => [s.id, { spec: s, state: 'waiting' }]));
  const failures: Failure[] = [];
  let done = 0;
  let lastLine = '';
  let lastReport = 0;
  let outage: string | undefined;
  let noWorkerSince = performance.now();
  let hinted = false;
  const t0 = performance.now();
  const info = (m: string) => run.progress.info(redact(q, m));
  info(`queue ${q.url}: ${specs.length} ${title} jobs; waiting for workers ('tagi worker --queue=${q.url}' on machines that see ${run.dir})`);
  while (pending.size > 0) {
    try {
      for (const [id, t] of pending) {
        // the state first, then the job: read the other way round, a job finishing in between would look
        // completed with the return value of its active self (none)
        t.state = await queue.getJobState(id);
        const job = await queue.getJob(id);
        if (job === undefined || t.state === 'unknown') {
          // removed behind our back (queue obliterated, Redis restarted without persistence): add it again
          await queue.add(t.spec.data.kind, t.spec.data, { ...JOB_OPTIONS, jobId: id });
          info(`  ${t.spec.label}: job missing from the queue (Redis restarted without persistence?); queued again`);
          continue;
        }
        if (typeof job.progress === 'object' && job.progress !== null) t.progress = job.progress as unknown as JobProgress;
        if (t.state === 'completed') {
          if (job.returnvalue === null || job.returnvalue === undefined)
            throw new CliError(`${t.spec.label}: job ${id} completed without a result; a worker of another version of tagi?`);
          pending.delete(id);
          await onDone(t.spec, job.returnvalue as R);
          done++;
          const r = job.returnvalue as JobResult;
          const how =
            r.kind === 'teacher' && r.status === 'exists' ? 'already written' : `${(((job.finishedOn ?? 0) - (job.processedOn ?? 0)) / 1000).toFixed(1)} s`;
          info(`  ${t.spec.label}: done (${how}${job.processedBy ? ` on ${job.processedBy}` : ''}) [${done + failures.length}/${specs.length}]`);
        } else if (t.state === 'failed') {
          pending.delete(id);
          const reason = job.failedReason || 'failed without a message';
          failures.push({ label: t.spec.label, reason });
          info(`  ${t.spec.label}: FAILED${job.processedBy ? ` on ${job.processedBy}` : ''}: ${reason} [${done + failures.length}/${specs.length}]`);
        }
      }
      if (outage !== undefined) {
        info(`queue ${q.url}: reachable again after ${outage}`);
        outage = undefined;
      }
      const active = [...pending.values()].filter((t) => t.state === 'active');
      if (active.length > 0) noWorkerSince = performance.now();
      const now = performance.now();
      if (!hinted && active.length === 0 && pending.size > 0 && now - noWorkerSince > 30_000) {
        const workers = await queue.getWorkersCount().catch(() => -1);
        if (workers === 0) {
          info(`queue ${q.url}: no worker is connected; start one: tagi worker --queue=${q.url}`);
          hinted = true;
        }
      }
      const line = `${title}: ${done}/${specs.length} done, ${active.length} running${active.length > 0 ? ` (${active.map((t) => `${t.spec.label}${t.progress ? ` ${t.progress.step}/${t.progress.total}${t.progress.worker ? ` @${t.progress.worker}` : ''}` : ''}`).join(', ')})` : ''}, ${pending.size - active.length} waiting, ${failures.length} failed`;
      if (pending.size > 0 && (line !== lastLine || now - lastReport > reportEvery) && now - lastReport > Math.min(reportEvery, 2000)) {
        info(`  ${line}`);
        lastLine = line;
        lastReport = now;
      }
    } catch (e) {
      if (!redisUnavailable(e)) throw e;
      // Redis unreachable: the jobs are still there (or will be re-added above); wait it out
      if (outage === undefined) info(`queue ${q.url}: unreachable (${(e as Error).message}); waiting for it to come back`);
      outage = `${((performance.now() - t0) / 1000).toFixed(0)} s into the wait`;
    }
    if (pending.size === 0) break;
    await sleep(pollMs);
    // run.interrupted appends "; continue with: tagi <command> --resume --run-dir=…"
    await run.yieldAndCheckStop(`while waiting for ${title} jobs (they stay queued and workers keep doing them; add --queue=${q.url} to collect them)`);
  }
  return failures;
}

/** The error a command ends with when jobs failed: every failed job and its error, and how to continue. */
export function failedJobsError(run: Run, q: QueueTarget, title: string, total: number, failures: readonly Failure[]): CliError {
  const lines = failures.map((f) => `  ${f.label}: ${f.reason}`);
  return new CliError(
    redact(
      q,
      `${failures.length} of ${total} ${title} jobs failed (the others are done and recorded in the run):\n${lines.join('\n')}\nfix the cause, then continue with: ${resumeHint(run, q)}`,
    ),
  );
}
