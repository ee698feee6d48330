// An advisory lock file that keeps two processes from writing one directory (a run dir, an output dir)
// at the same time. The file is created with O_EXCL and holds who owns it; a lock left behind by a
// process that no longer exists on this host (kill -9, a crash) is stale and taken over, one held by a
// live process or by another host is refused with who holds it.
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';

/** Who holds a lock. */
export interface LockInfo {
  readonly pid: number;
  readonly host: string;
  /** What the holder is doing (e.g. 'tagi demo'). */
  readonly command: string;
  /** ISO time the lock was taken. */
  readonly startedAt: string;
  /** Distinguishes this holder from a later one with a recycled pid. */
  readonly token: string;
}

/** The lock is held by a live process (or one on another host, whose liveness cannot be checked). */
export class DirLockedError extends Error {
  override readonly name = 'DirLockedError';
  constructor(
    readonly file: string,
    readonly holder: LockInfo,
  ) {
    const where = holder.host === os.hostname() ? `pid ${holder.pid}` : `pid ${holder.pid} on host ${holder.host}`;
    super(
      `${file}: in use by ${where} ('${holder.command}', since ${holder.startedAt}); wait for it to finish` +
        (holder.host === os.hostname() ? '' : `, or remove ${file} if that process is gone`),
    );
  }
}

/** A lock this process holds. */
export interface DirLock {
  readonly file: string;
  readonly info: LockInfo;
  /** Removes the lock file if it is still ours (idempotent). */
  release(): void;
}

/** The holder recorded in a lock file; undefined when there is no (readable) lock file. */
export function readLock(file: string): LockInfo | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const o = JSON.parse(text) as Partial<LockInfo>;
    if (typeof o.pid === 'number' && typeof o.host === 'string') {
      return { pid: o.pid, host: o.host, command: String(o.command ?? '?'), startedAt: String(o.startedAt ?? '?'), token: String(o.token ?? '') };
    }
  } catch {
    // a lock file torn by a crash between create and write: treated as stale below
  }
  return { pid: -1, host: os.hostname(), command: '?', startedAt: '?', token: '' };
}

/** True when the holder is a process of this host that no longer exists. */
export function isStaleLock(info: LockInfo): boolean {
  if (info.host !== os.hostname()) return false;
  if (info.pid <= 0) return true;
  try {
    process.kill(info.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Takes the lock file `file` (its directory must exist) for `command`, taking over a stale lock.
 * Throws DirLockedError when a live process holds it; other OS errors (EACCES, ENOENT, ...) propagate.
 */
export function acquireLock(file: string, command: string): DirLock {
  const info: LockInfo = { pid: process.pid, host: os.hostname(), command, startedAt: new Date().toISOString(), token: randomBytes(8).toString('hex') };
  const text = `${JSON.stringify(info)}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      createWithContent(file, text);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readLock(file);
      if (holder === undefined) continue; // released meanwhile
      if (!isStaleLock(holder)) throw new DirLockedError(file, holder);
      // stale: remove it only if it is still the one we judged (another process may have taken it over)
      if (readLock(file)?.token === holder.token) {
        try {
          unlinkSync(file);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      continue;
    }
    let held = true;
    return {
      file,
      info,
      release() {
        if (!held) return;
        held = false;
        if (readLock(file)?.token !== info.token) return;
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      },
    };
  }
  const holder = readLock(file);
  throw new DirLockedError(file, holder ?? { pid: -1, host: os.hostname(), command: '?', startedAt: '?', token: '' });
}

// The lock file appears with its content in one step (a hard link of a finished temp file), so no reader
// ever sees a half-written lock and mistakes it for a stale one. File systems without hard links get an
// O_EXCL create followed by the write.
function createWithContent(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text, { flag: 'wx' });
  try {
    linkSync(tmp, file);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV')) throw e;
  } finally {
    unlinkSync(tmp);
  }
  const fd = openSync(file, 'wx');
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
