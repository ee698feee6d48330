// The queue's command-line surface: the `--queue redis://HOST:PORT[/db]` flag of `tagi teachers` and
// `tagi eval`, and `tagi worker`. Kept free of heavy imports (no bullmq, no tfjs): argument checking runs
// before anything is loaded, like the rest of invocation.ts.
import { CliError } from '../errors.js';
import type { CliIO } from '../io.js';

/** Where the queue lives: one Redis database. */
export interface QueueTarget {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  /** Normalised `redis://host:port/db`, for messages and the commands printed back to the user. */
  readonly url: string;
}

export interface WorkerInvocation {
  readonly command: 'worker';
  readonly queue: QueueTarget;
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

/** The commands that can run their per-task jobs on the queue. */
export const QUEUE_COMMANDS: readonly string[] = ['teachers', 'eval'];
export const WORKER_FLAGS = ['help', 'queue', 'concurrency', 'lock-seconds'];
const URL_FORM = 'redis://HOST:PORT[/DB] (e.g. redis://127.0.0.1:6379/0)';
/** Default lock: long enough that one training update (which holds the event loop) never outlives it. */
export const DEFAULT_LOCK_SECONDS = 120;

/** Parses `--queue`. Only plain redis:// without credentials: a password on the command line would land in `ps` and in the run's logs. */
export function parseQueueUrl(value: string | true, flag = '--queue'): QueueTarget {
  if (value === true) throw new QueueArgumentError(flag, URL_FORM, '(no value)');
  const m = /^redis:\/\/([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})(?:\/(\d{1,2}))?\/?$/.exec(value);
  if (m === null) throw new QueueArgumentError(flag, URL_FORM, value);
  const port = Number(m[2]);
  const db = m[3] === undefined ? 0 : Number(m[3]);
  if (port < 1 || port > 65535) throw new QueueArgumentError(flag, `${URL_FORM} with a port in 1..65535`, value);
  if (db > 15) throw new QueueArgumentError(flag, `${URL_FORM} with a database number in 0..15 (Redis' default range)`, value);
  const host = (m[1] as string).replace(/^\[|\]$/g, '');
  return { host, port, db, url: `redis://${m[1]}:${port}/${db}` };
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
  for (const [name, value] of flags) {
    if (name === 'queue') queue = parseQueueUrl(value);
    else if (name === 'concurrency') concurrency = positiveInt('--concurrency', value, 64);
    else if (name === 'lock-seconds') lockSeconds = positiveInt('--lock-seconds', value, 24 * 3600);
    else throw unknownFlag(name);
  }
  if (queue === undefined) throw new CliError(`'tagi worker' needs --queue=${URL_FORM}\n\n${WORKER_HELP}`);
  return { command: 'worker', queue, concurrency, lockSeconds, io };
}

export const QUEUE_OPTION = `  --queue redis://HOST:PORT[/DB]   run one job per task on this Redis queue (BullMQ) and wait for
                         'tagi worker' processes to do them; every worker needs the run dir at the same path
                         (a shared file system). See 'tagi worker --help'.`;

export const WORKER_HELP = `tagi worker — take teacher and evaluation jobs from a Redis queue (BullMQ)

Usage: tagi worker --queue redis://HOST:PORT[/DB] [--concurrency N] [--lock-seconds S]

Serves 'tagi teachers --queue …' (one job per teacher group) and 'tagi eval --queue …' (one job per
task and evaluation setting) of any run: it reads the run's config.json, base model, adapters and data from the run dir
named in the job, so every worker must see the run dir (and its inputs) at the same absolute path — a
shared file system. A teacher is written atomically (temporary dir + rename) and equals the single-process
one bit for bit (same seed per task, same backend as the enqueuing command).

  --queue URL            the Redis database of the queue (required)
  --concurrency N        worker processes to start (default 1); tfjs runs one op at a time per process,
                         so parallel jobs need processes (about one per core)
  --lock-seconds S       a job whose worker stops renewing its lock for S seconds (killed, machine lost) is
                         given to another worker, which resumes from its checkpoints (default ${DEFAULT_LOCK_SECONDS})

A job that throws (bad data, a missing file) fails once and the enqueuing command reports its error;
only a crashed or killed worker's job is retried (at most twice). Ctrl-C / SIGTERM: the current job is
checkpointed and handed back to the queue, then the worker exits (130 / 143). A Redis restart is
survived: the worker reconnects.`;
