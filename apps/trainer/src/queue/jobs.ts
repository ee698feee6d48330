// What travels through Redis: the job payloads, their ids, the queue name and the connection settings.
// A job names a run dir, never its contents: workers read config, model and data from the (shared) run
// dir, so a job stays a few hundred bytes whatever the model size.
import { createHash } from 'node:crypto';
import { realpathSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import type { ConnectionOptions } from 'bullmq';
import { CONFIG_FILE } from '../run/run-files.js';
import type { EvalSplit } from '../data/tasks.js';
import type { MethodPredictions } from '../stages/evaluate.js';
import { teacherDirName } from '../data/models.js';
import { CliError } from '../common/errors.js';
import { QUEUE_PASSWORD_ENV, type QueueTarget, redact } from './cli.js';

/** One queue for every run on a Redis database: job ids carry the run, so runs never collide. */
export const QUEUE_NAME = 'tagi-jobs';

interface JobBase {
  /** Absolute run dir (the same path on every worker). */
  readonly runDir: string;
  /** configHash of the run's config.json: a worker refuses a run whose config changed after enqueueing. */
  readonly configHash: string;
  /** The backend the enqueuing command runs on: a teacher is bit-for-bit the single-process one only on the same backend. */
  readonly backend: 'tensorflow' | 'wasm' | 'cpu';
}

export interface TeacherJobData extends JobBase {
  readonly kind: 'teacher';
  /** The bank's stage name ('teachers', or 'teachers/bank-K-of-N' with teachers.bankSize > 0). */
  readonly stage: string;
  /** Its teacher groups (categories, or tasks with teachers.groupBy=task), sorted: the worker checks the run's data cuts the same bank. */
  readonly groups: readonly string[];
}

export interface EvalJobData extends JobBase {
  readonly kind: 'eval';
  /** The evaluation setting (a task can be in two: seen-train and seen-new). */
  readonly split: EvalSplit;
  readonly taskId: string;
}

export type JobData = TeacherJobData | EvalJobData;

export interface TeacherJobResult {
  readonly kind: 'teacher';
  /** 'exists': another worker (or an earlier attempt) had written it; nothing was written. */
  readonly status: 'trained' | 'exists';
  readonly seconds: number;
  readonly finalLoss?: number;
  readonly resumedFrom: number;
}

export interface EvalJobResult {
  readonly kind: 'eval';
  readonly split: EvalSplit;
  readonly taskId: string;
  /** Every model method's predictions on the task, in its instance order, with the wall clock they took (stages/evaluate.ts predictRows). */
  readonly methods: readonly MethodPredictions[];
  /** FLOPs per held-out instance per method (stages/evaluate.ts methodFlops: the same on every worker; it needs the loaded models). */
  readonly flops: Readonly<Record<string, number>>;
}

export type JobResult = TeacherJobResult | EvalJobResult;

/** Progress a worker reports on a running job (job.updateProgress). */
export interface JobProgress {
  readonly step: number;
  readonly total: number;
  readonly loss?: number;
  readonly worker: string;
}

/**
 * Identity of a run for job ids: its real path plus when its config.json was written (once, when the run
 * was created; kept on --resume). A run dir removed and created again at the same path is another run.
 */
export function runId(runDir: string): string {
  const real = realpathSync(runDir);
  const born = statSync(path.join(real, CONFIG_FILE)).mtimeMs;
  return createHash('sha256').update(`${real}\0${born}`).digest('hex').slice(0, 12);
}

/**
 * Idempotent job id (run + config hash + task): enqueueing the same run twice adds nothing. BullMQ refuses
 * ':' in custom ids, and slugs drop it.
 */
export function jobId(kind: JobData['kind'], run: string, configHash: string, key: string): string {
  return `${kind}.${run}.${configHash}.${teacherDirName(key)}`;
}

/**
 * ioredis settings; ioredis reconnects with a capped back-off. A worker's commands wait across a Redis
 * restart (`maxRetriesPerRequest: null`, which BullMQ requires for workers); the enqueuer's fail after a
 * few reconnects, so its wait loop can say that Redis is gone and still honour Ctrl-C.
 */
export function connection(q: QueueTarget, role: 'worker' | 'enqueuer'): ConnectionOptions {
  return {
    ...login(q),
    maxRetriesPerRequest: role === 'worker' ? null : 3,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
}

/** Address, database, user, password and TLS of `q`, as ioredis takes them. */
function login(q: QueueTarget) {
  return {
    host: q.host,
    port: q.port,
    db: q.db,
    ...(q.username !== undefined ? { username: q.username } : {}),
    ...(q.password !== undefined ? { password: q.password } : {}),
    // SNI names a host; an IP address is verified against the certificate's IP entries without it
    ...(q.tls ? { tls: isIP(q.host) === 0 ? { servername: q.host } : {} } : {}),
  };
}

/** The queue could not be used: Redis unreachable, the login refused, TLS failed. Exit code 2. */
export class QueueConnectError extends CliError {
  override readonly name = 'QueueConnectError';
}

/** What a connection failure means and what to do about it (the password masked). */
export function explainRedisError(q: QueueTarget, e: Error): string {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const said = redact(q, e.message);
  if (/^NOAUTH/.test(e.message)) {
    return `${q.url}: Redis requires a password (${said}); give it in the URL (redis://:PASSWORD@HOST:PORT, or redis://USER:PASSWORD@… for an ACL user) or in $${QUEUE_PASSWORD_ENV}`;
  }
  if (/^WRONGPASS|invalid password|invalid username-password/i.test(e.message))
    return `${q.url}: Redis refused the login (${said}); check the user name and password`;
  if (/^NOPERM/.test(e.message)) return `${q.url}: the Redis user may not run what the queue needs (${said}); grant it, e.g. ACL SETUSER <user> on ~* &* +@all`;
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code) || /connect ETIMEDOUT/.test(e.message)) {
    const tlsHint = q.tls && /ETIMEDOUT/.test(`${code} ${e.message}`) ? ' (with rediss://: does the server speak TLS on this port?)' : '';
    return `cannot connect to ${q.url}: ${said}; is redis-server running there and reachable from this machine?${tlsHint}`;
  }
  if (q.tls || /SSL|TLS|certificate|self.signed/i.test(e.message)) {
    return `${q.url}: TLS connection failed (${said})${q.tls ? '; a server with a private CA needs NODE_EXTRA_CA_CERTS=ca.pem' : ''}`;
  }
  return `${q.url}: ${said}`;
}

/** Whether a Redis error is a refused login or permission: it does not heal by reconnecting. */
export function isLoginRefused(e: Error): boolean {
  return /^(NOAUTH|WRONGPASS|NOPERM)|invalid username-password/.test(e.message);
}

/**
 * Connects once and pings (a refused login answers the ping), within `timeoutMs`; throws
 * QueueConnectError naming the cause. The enqueuer and the worker call it before anything else, so a wrong
 * URL, a missing password or a Redis that is down exits 2 at once instead of waiting.
 */
export async function probeQueue(q: QueueTarget, timeoutMs = 5000): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis({
    ...login(q),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
  });
  // ioredis reports the cause as an 'error' event; the promises only say the connection closed
  let cause: Error | undefined;
  client.on('error', (e: Error) => (cause ??= e));
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    throw new QueueConnectError(explainRedisError(q, cause ?? (e as Error)));
  } finally {
    client.disconnect();
  }
}

/** Job options: a thrown error fails the job once (bad data does not heal by retrying); stalls are the worker's maxStalledCount. */
export const JOB_OPTIONS = { attempts: 1, removeOnComplete: { age: 30 * 24 * 3600 }, removeOnFail: { age: 30 * 24 * 3600 } } as const;
