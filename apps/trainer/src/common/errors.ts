// The CLI's one error path: every failure becomes one message line (or a short block) on stderr and an
// exit code. 2 = what the user gave or the system refused (arguments, config, files, OS errors such as
// EACCES or ENOSPC, a locked run dir, damaged checkpoints); 130 / 143 = stopped by SIGINT / SIGTERM after
// saving; 1 = "internal error", kept for real bugs (with the stack).

/** A problem with what the user gave us: an argument, a config key, a path, a file. Exit code 2. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** A config that fails the schema; `problems` are `dot.path: message` lines. */
export class ConfigError extends CliError {
  override readonly name = 'ConfigError';
  constructor(
    readonly problems: readonly string[],
    source: string,
  ) {
    super(`invalid configuration (${source}):\n  ${problems.join('\n  ')}`);
  }
}

/** A stop requested by a signal, after what needed saving was saved. Exit code 130 (SIGINT) or 143 (SIGTERM). */
export class InterruptedError extends CliError {
  override readonly name = 'InterruptedError';
  constructor(message: string, exitCode = 130) {
    super(message, exitCode);
  }
}

/** What each OS error means and what to do about it. */
const OS_ERRORS: Record<string, { what: string; todo: string }> = {
  ENOENT: { what: 'no such file or directory', todo: 'check the path' },
  ENOTDIR: { what: 'a part of this path is a file, not a directory', todo: 'choose another path' },
  EISDIR: { what: 'is a directory where a file was expected', todo: 'choose another path' },
  EACCES: { what: 'permission denied', todo: 'choose a location you can write (--run-dir / --out) or fix its permissions' },
  EPERM: { what: 'operation not permitted', todo: 'choose a location you can write (--run-dir / --out) or fix its permissions' },
  EROFS: { what: 'read-only file system', todo: 'choose a writable location (--run-dir / --out)' },
  EEXIST: { what: 'already exists', todo: 'choose another path or remove it' },
  ENOTEMPTY: { what: 'directory not empty', todo: 'choose another path or remove it' },
  ENOSPC: { what: 'no space left on the device', todo: 'free some space (a run continues with --resume), or choose another --run-dir / --out' },
  EDQUOT: { what: 'disk quota exceeded', todo: 'free some space (a run continues with --resume), or choose another --run-dir / --out' },
  EMFILE: { what: 'too many open files', todo: 'raise the limit (ulimit -n) and retry' },
  EBUSY: { what: 'resource busy', todo: 'retry when the other process is done' },
  EXDEV: { what: 'cannot move across file systems', todo: 'keep the output on the same file system as its directory' },
  ENAMETOOLONG: { what: 'file name too long', todo: 'choose a shorter path' },
  EADDRINUSE: { what: 'address already in use', todo: 'choose another port' },
};

const VERBS: Record<string, string> = {
  open: 'open',
  mkdir: 'create directory',
  rmdir: 'remove directory',
  rm: 'remove',
  unlink: 'remove',
  rename: 'move',
  write: 'write',
  read: 'read',
  scandir: 'list',
  stat: 'read',
  lstat: 'read',
  access: 'access',
  copyfile: 'copy',
  link: 'create',
  mkdtemp: 'create directory',
};

/** An errno-style error (`code`, `syscall`, `path`) that Node raised for a file system or socket call. */
export function isOsError(e: unknown): e is NodeJS.ErrnoException & { code: string } {
  return (
    e instanceof Error &&
    typeof (e as NodeJS.ErrnoException).code === 'string' &&
    (e as NodeJS.ErrnoException).code! in OS_ERRORS &&
    typeof (e as NodeJS.ErrnoException).syscall === 'string'
  );
}

/** One line naming the path, what went wrong and what to do. */
export function osErrorMessage(e: NodeJS.ErrnoException & { code: string }): string {
  const info = OS_ERRORS[e.code] as { what: string; todo: string };
  const verb = VERBS[e.syscall ?? ''] ?? e.syscall ?? 'use';
  const dest = (e as { dest?: string }).dest;
  const target = e.path !== undefined ? ` '${e.path}'${dest !== undefined ? ` to '${dest}'` : ''}` : '';
  return `cannot ${verb}${target}: ${info.what} (${e.code}); ${info.todo}`;
}

/** Library errors that carry a complete, user-facing message of their own (typed, naming the file or key). */
function isTypedLibraryError(e: unknown): e is Error {
  return (
    e instanceof Error &&
    typeof e.message === 'string' &&
    !['Error', 'TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'AssertionError'].includes(e.name)
  );
}

/** The message and exit code the CLI reports for `e`. */
export function explainError(e: unknown): { message: string; exitCode: number; internal: boolean } {
  if (e instanceof CliError) return { message: e.message, exitCode: e.exitCode, internal: false };
  if (isOsError(e)) return { message: osErrorMessage(e), exitCode: 2, internal: false };
  // a directory another process holds: its message already names the lock file, the holder and what to do
  if (e instanceof Error && e.name === 'DirLockedError') return { message: e.message, exitCode: 2, internal: false };
  if (isTypedLibraryError(e)) {
    // a typed error that wraps an OS error (e.g. a reader that names its file) still gets the advice
    const cause = (e as Error & { cause?: unknown }).cause;
    return { message: `${e.name}: ${e.message}${isOsError(cause) ? `; ${OS_ERRORS[cause.code]?.todo}` : ''}`, exitCode: 2, internal: false };
  }
  const err = e as Error | undefined;
  return { message: `internal error (please report it): ${err?.stack ?? String(e)}`, exitCode: 1, internal: true };
}
