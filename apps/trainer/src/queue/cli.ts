// The queue's command-line surface: the `--queue redis[s]://[[USER]:PASSWORD@]HOST:PORT[/DB]` flag of
// `tagi teachers` and `tagi eval`, and `tagi worker`. Kept free of heavy imports (no bullmq, no tfjs):
// argument checking runs before anything is loaded, like the rest of invocation.ts.
//
// A password is never printed: `QueueTarget.url` (what messages and the commands printed back show) masks
// it, and `redact` masks it in any text (a Redis error, say). It may come from $TAGI_QUEUE_PASSWORD instead
// of the URL, which keeps it out of `ps` and shell history; the worker hands it to its child processes so.
import { CliError } from '../common/errors.js';
import type { CliIO } from '../common/io.js';

/** Where the queue lives: one Redis database, and how to log in to it. */
export interface QueueTarget {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  /** An ACL user (`redis://USER:PASSWORD@…`); undefined: Redis' default user. */
  readonly username?: string;
  /** The AUTH password (from the URL, else $TAGI_QUEUE_PASSWORD). Never printed: use `url`. */
  readonly password?: string;
  /** rediss://: TLS, verified against the system's CAs (a private CA: NODE_EXTRA_CA_CERTS=ca.pem). */
  readonly tls: boolean;
  /**
   * `redis[s]://[USER[:***]@]HOST:PORT/DB` for messages and the commands printed back to the user: a password
   * from the URL shows as `***` (give it again), one from $TAGI_QUEUE_PASSWORD not at all (it is found there again).
   */
  readonly url: string;
  /** The URL without any password (for a child process, which gets the password in $TAGI_QUEUE_PASSWORD). */
  readonly urlWithoutPassword: string;
}

/** The environment variable a password may come from when the URL gives none. */
export const QUEUE_PASSWORD_ENV = 'TAGI_QUEUE_PASSWORD';

/** `text` with the queue's password (raw and URL-encoded) replaced by ***. */
export function redact(q: QueueTarget, text: string): string {
  if (q.password === undefined || q.password === '') return text;
  let out = text;
  for (const secret of new Set([q.password, encodeURIComponent(q.password)])) out = out.split(secret).join('***');
  return out;
}

export interface WorkerInvocation {
  readonly command: 'worker';
  readonly queue: QueueTarget;
  /** --allow-non-finite: the jobs' models, adapters and hypernetworks may hold NaN/Inf (warned, not refused). */
  readonly allowNonFinite?: boolean;
  /** Worker processes to run (one job each at a time). */
  readonly concurrency: number;
  /** Seconds a job's lock lives without renewal: how long a killed worker's job waits before another worker takes it. */
  readonly lockSeconds: number;
  readonly io: CliIO;
}

/** A bad queue-related argument; names the flag, what was expected and what was given. Exit code 2. */
export class QueueArgumentError extends CliError {
  override readonly name = 'QueueArgumentError';
  constructor(
    readonly argument: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${argument}: expected ${expected}, got '${got}'`);
  }
}

/** A value shown back in an error, with whatever stands where a password would be masked. */
function masked(value: string): string {
  return value.replace(/^([a-z]+:\/\/[^:@/]*:)[^/]*@/i, '$1***@');
}

/** The commands that can run their per-task jobs on the queue. */
export const QUEUE_COMMANDS: readonly string[] = ['teachers', 'eval'];
export const WORKER_FLAGS = ['help', 'queue', 'concurrency', 'lock-seconds', 'allow-non-finite'];
const URL_FORM = 'redis[s]://[[USER]:PASSWORD@]HOST:PORT[/DB] (e.g. redis://127.0.0.1:6379/0, redis://:PASSWORD@queue.lan:6379)';
/** How long a stopping worker or enqueuer waits for Redis (handing a job back, closing) before exiting without it. */
export const REDIS_GRACE_SECONDS = 5;
/** Default lock: long enough that one training update (which holds the event loop) never outlives it. */
export const DEFAULT_LOCK_SECONDS = 120;

/**
 * Parses `--queue` as ioredis/BullMQ read a Redis URL: redis:// or rediss:// (TLS), an optional user and
 * password (percent-encoded: `redis://:PASSWORD@…` for Redis' requirepass, `redis://USER:PASSWORD@…` for an
 * ACL user), host, port and database. Without a password in the URL, $TAGI_QUEUE_PASSWORD is used if set.
 */
export function parseQueueUrl(value: string | true, flag = '--queue', env: NodeJS.ProcessEnv = process.env): QueueTarget {
  if (value === true) throw new QueueArgumentError(flag, URL_FORM, '(no value)');
  const m = /^(rediss?):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})(?:\/(\d{1,2}))?\/?$/.exec(value);
  if (m === null) {
    const hint = value.includes('@') ? `${URL_FORM}; percent-encode '@', '/' and ':' inside the user name and password` : URL_FORM;
    throw new QueueArgumentError(flag, hint, masked(value));
  }
  const [, scheme, rawUser, rawPassword, hostPart, portText, dbText] = m as unknown as [
    string,
    string,
    string | undefined,
    string | undefined,
    string,
    string,
    string | undefined,
  ];
  const port = Number(portText);
  const db = dbText === undefined ? 0 : Number(dbText);
  if (port < 1 || port > 65535) throw new QueueArgumentError(flag, `${URL_FORM} with a port in 1..65535`, masked(value));
  if (db > 15) throw new QueueArgumentError(flag, `${URL_FORM} with a database number in 0..15 (Redis' default range)`, masked(value));
  let username: string | undefined;
  let password: string | undefined;
  try {
    username = rawUser === undefined || rawUser === '' ? undefined : decodeURIComponent(rawUser);
    password = rawPassword === undefined || rawPassword === '' ? undefined : decodeURIComponent(rawPassword);
  } catch {
    throw new QueueArgumentError(flag, `${URL_FORM} with a correctly percent-encoded user name and password`, masked(value));
  }
  const fromEnv = password === undefined && (env[QUEUE_PASSWORD_ENV] ?? '') !== '';
  if (fromEnv) password = env[QUEUE_PASSWORD_ENV];
  const user = username === undefined ? '' : encodeURIComponent(username);
  const at = (pw: string) => (user !== '' || pw !== '' ? `${user}${pw}@` : '');
  const where = `${hostPart}:${port}/${db}`;
  return {
    host: hostPart.replace(/^\[|\]$/g, ''),
    port,
    db,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    tls: scheme === 'rediss',
    url: `${scheme}://${at(password !== undefined && !fromEnv ? ':***' : '')}${where}`,
    urlWithoutPassword: `${scheme}://${at('')}${where}`,
  };
}

function positiveInt(flag: string, value: string | true, max: number): number {
  const n = value === true ? Number.NaN : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new QueueArgumentError(flag, `an integer in 1..${max}`, value === true ? '(no value)' : value);
  return n;
}

/** `tagi worker --queue URL [--concurrency N] [--lock-seconds S]`. */
export function parseWorker(flags: readonly (readonly [string, string | true])[], io: CliIO, unknownFlag: (name: string) => Error): WorkerInvocation {
  let queue: QueueTarget | undefined;
  let concurrency = 1;
  let lockSeconds = DEFAULT_LOCK_SECONDS;
  let allowNonFinite = false;
  for (const [name, value] of flags) {
    if (name === 'queue') queue = parseQueueUrl(value);
    else if (name === 'concurrency') concurrency = positiveInt('--concurrency', value, 64);
    else if (name === 'lock-seconds') lockSeconds = positiveInt('--lock-seconds', value, 24 * 3600);
    else if (name === 'allow-non-finite') {
      if (value !== true && value !== 'true') throw new CliError('--allow-non-finite takes no value');
      allowNonFinite = true;
    } else throw unknownFlag(name);
  }
  if (queue === undefined) throw new CliError(`'tagi worker' needs --queue=${URL_FORM}\n\n${WORKER_HELP}`);
  return { command: 'worker', queue, concurrency, lockSeconds, io, ...(allowNonFinite ? { allowNonFinite } : {}) };
}

export const QUEUE_OPTION = `  --queue redis[s]://[[USER]:PASSWORD@]HOST:PORT[/DB]
                         run one job per task on this Redis queue (BullMQ) and wait for 'tagi worker' processes
                         to do them; every worker needs the run dir at the same path (a shared file system).
                         The password may come from $${QUEUE_PASSWORD_ENV} instead. See 'tagi worker --help'.`;

export const WORKER_HELP = `tagi worker — take teacher and evaluation jobs from a Redis queue (BullMQ)

Usage: tagi worker --queue redis[s]://[[USER]:PASSWORD@]HOST:PORT[/DB] [--concurrency N] [--lock-seconds S]

Serves 'tagi teachers --queue …' (one job per teacher group) and 'tagi eval --queue …' (one job per
task and evaluation setting) of any run: it reads the run's config.json, base model, adapters and data from the run dir
named in the job, so every worker must see the run dir (and its inputs) at the same absolute path — a
shared file system. A teacher is written atomically (temporary dir + rename) and equals the single-process
one bit for bit (same seed per task, same backend as the enqueuing command).

  --queue URL            the Redis database of the queue (required): rediss:// for TLS (a private CA:
                         NODE_EXTRA_CA_CERTS=ca.pem), redis://:PASSWORD@… for requirepass, redis://USER:PASSWORD@…
                         for an ACL user; without a password in the URL, $${QUEUE_PASSWORD_ENV} is used (kept out of
                         'ps'). The password is never printed.
  --concurrency N        worker processes to start (default 1); tfjs runs one op at a time per process,
                         so parallel jobs need processes (about one per core)
  --lock-seconds S       a job whose worker stops renewing its lock for S seconds (killed, machine lost) is
                         given to another worker, which resumes from its checkpoints (default ${DEFAULT_LOCK_SECONDS})
  --allow-non-finite     use a run's model, adapter or hypernetwork even when its weights hold NaN/Inf (warned)

A job that throws (bad data, a missing file, a teacher whose loss turns NaN) fails once and the enqueuing
command reports its error; only a crashed or killed worker's job is retried (at most twice). Ctrl-C /
SIGTERM: the current job is checkpointed and handed back to the queue, then the worker exits (130 / 143);
when Redis does not answer within ${REDIS_GRACE_SECONDS} s the worker exits anyway, and the job returns to the queue when its
lock expires. A Redis restart is survived: the worker reconnects. A Redis that cannot be reached or refuses
the login when the worker starts, or refuses it later: exit 2 with the cause.`;
