// One error path for operating-system errors. Node reports them as Error objects with `code`, `syscall`
// and usually `path` (or `address`/`port` for sockets); their own message ("EACCES: permission denied,
// open '…'") says what failed but not what to do. Both the HTTP API (a JSON error with a status) and
// the command line (one line on stderr, exit 2) describe them through this table, so a user never sees
// "internal error" or a stack trace for a file that is missing, unreadable or a port that is taken.

export interface OsErrorDescription {
  /** Node's error code, e.g. 'EACCES'. */
  readonly code: string;
  /** HTTP status for the API. */
  readonly status: number;
  /** One line naming the path (or port) and what to do. */
  readonly message: string;
}

interface ErrnoLike {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
  address?: string;
  port?: number;
}

function errnoLike(e: unknown): ErrnoLike | undefined {
  if (!(e instanceof Error)) return undefined;
  const code = (e as { code?: unknown }).code;
  // OS error codes are 'E' + capitals; Node's own ERR_* codes are programming errors, not OS faults
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) return undefined;
  return e as unknown as ErrnoLike;
}

/** Who runs this process, for advice about permissions. */
function whoAmI(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  return uid === undefined ? 'the user running the playground' : `the user running the playground (uid ${uid})`;
}

/** Per code: HTTP status and the advice. `what` is the quoted path (or address) the error is about. */
const TABLE: Record<string, { status: number; text: (what: string, e: ErrnoLike) => string }> = {
  ENOENT: { status: 404, text: (w) => `${w}: no such file or directory (moved or deleted since it was listed? reload the run list)` },
  ENOTDIR: { status: 404, text: (w) => `${w}: a part of this path is a file, not a directory (check the path)` },
  EISDIR: { status: 422, text: (w) => `${w}: is a directory where a file was expected (rename or remove the directory)` },
  EACCES: { status: 403, text: (w) => `${w}: permission denied (make it readable by ${whoAmI()})` },
  EPERM: { status: 403, text: (w) => `${w}: operation not permitted (check its owner and permissions)` },
  ELOOP: { status: 403, text: (w) => `${w}: too many levels of symbolic links (a symlink loop; remove the link)` },
  EEXIST: { status: 409, text: (w) => `${w}: already exists (remove it or choose another name)` },
  ENOSPC: { status: 507, text: (w) => `${w}: no space left on the device (free some space and retry)` },
  EDQUOT: { status: 507, text: (w) => `${w}: disk quota exceeded (free some space and retry)` },
  EROFS: { status: 403, text: (w) => `${w}: read-only file system (choose a writable location)` },
  EMFILE: { status: 503, text: (w) => `${w}: too many open files in this process (retry; raise \`ulimit -n\` if it persists)` },
  ENFILE: { status: 503, text: (w) => `${w}: too many open files on this machine (retry later)` },
  EIO: { status: 500, text: (w) => `${w}: input/output error (the disk or file system reported a fault)` },
  ENAMETOOLONG: { status: 400, text: (w) => `${w}: file name too long` },
  EPIPE: { status: 499, text: (w) => `${w}: the reader went away (broken pipe)` },
  ECONNRESET: { status: 499, text: (w) => `${w}: the connection was reset by the other side` },
  EADDRINUSE: {
    status: 500,
    text: (w) => `${w} is already in use (another playground or server?): stop that process, or pass --port with a free port (--port 0 picks one)`,
  },
  EADDRNOTAVAIL: {
    status: 500,
    text: (w, e) => `--host ${e.address ?? w}: not an address of this machine (pass --host 127.0.0.1, or an address this machine has)`,
  },
  ENOTFOUND: {
    status: 500,
    text: (w, e) => `--host ${(e as { hostname?: string }).hostname ?? w}: host name not found (pass --host 127.0.0.1 or an IP address)`,
  },
};

/** Names the thing an error is about: its path, or for a socket its address and port. */
function subject(e: ErrnoLike): string {
  if (e.path !== undefined) return e.dest !== undefined ? `${e.path} -> ${e.dest}` : e.path;
  if (e.port !== undefined) return `port ${e.port}${e.address ? ` on ${e.address}` : ''}`;
  if (e.address !== undefined) return e.address;
  return e.syscall ?? 'the operation';
}

/**
 * Describes an operating-system error (a Node error with an `E…` code) in one line naming its path and
 * what to do; undefined for anything else (a real bug, to be reported as an internal error).
 */
export function describeOsError(e: unknown): OsErrorDescription | undefined {
  const err = errnoLike(e);
  if (!err) return undefined;
  const what = subject(err);
  // listening on a port below 1024 without the privilege is EACCES on a socket, not on a file
  if ((err.code === 'EACCES' || err.code === 'EPERM') && err.syscall === 'listen') {
    return {
      code: err.code,
      status: 500,
      message: `${what}: not allowed to listen there (ports below 1024 need privileges): pass --port 5178, or another port from 1024 up`,
    };
  }
  const row = TABLE[err.code];
  if (!row) return { code: err.code, status: 500, message: `${what}: ${err.syscall ?? 'system call'} failed with ${err.code}` };
  return { code: err.code, status: row.status, message: row.text(what, err) };
}

/**
 * Runs `fn`, which works on `file`; an OS error it throws without a path (reading a directory gives
 * EISDIR from the `read` call, which names no file) gets `file` as its path, so the message can name it.
 */
export function aboutFile<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const err = errnoLike(e);
    if (err && err.path === undefined) err.path = file;
    throw e;
  }
}
