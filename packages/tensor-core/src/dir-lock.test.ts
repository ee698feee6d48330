import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DirLockedError, acquireLock, isStaleLock, readLock } from './dir-lock.js';

const made: string[] = [];
const dir = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tagi-lock-'));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** The pid of a process that has exited (so it names no live process). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('directory lock', () => {
  it('records its holder, refuses a second holder while held and is free again after release', () => {
    const file = path.join(dir(), '.tagi.lock');
    const lock = acquireLock(file, 'tagi demo');
    expect(readLock(file)).toMatchObject({ pid: process.pid, host: os.hostname(), command: 'tagi demo' });
    let err: unknown;
    try {
      acquireLock(file, 'tagi demo --resume');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DirLockedError);
    expect((err as Error).message).toMatch(new RegExp(`in use by pid ${process.pid} \\('tagi demo', since .*\\); wait for it to finish$`));
    lock.release();
    expect(existsSync(file)).toBe(false);
    lock.release(); // idempotent
    acquireLock(file, 'again').release();
  });

  it('takes over a stale lock of a process that no longer exists, and a torn lock file', () => {
    const file = path.join(dir(), '.tagi.lock');
    const pid = deadPid();
    writeFileSync(file, JSON.stringify({ pid, host: os.hostname(), command: 'killed', startedAt: 'earlier', token: 't' }));
    expect(isStaleLock(readLock(file)!)).toBe(true);
    const lock = acquireLock(file, 'tagi demo --resume');
    expect(readLock(file)?.pid).toBe(process.pid);
    lock.release();
    writeFileSync(file, '{"pid": 12');
    acquireLock(file, 'after a torn write').release();
  });

  it('refuses a lock held on another host and says how to clear it', () => {
    const file = path.join(dir(), '.tagi.lock');
    writeFileSync(file, JSON.stringify({ pid: 1, host: 'elsewhere.example', command: 'tagi demo', startedAt: 'then', token: 't' }));
    expect(() => acquireLock(file, 'x')).toThrow(
      `in use by pid 1 on host elsewhere.example ('tagi demo', since then); wait for it to finish, or remove ${file} if that process is gone`,
    );
    expect(JSON.parse(readFileSync(file, 'utf8')).host).toBe('elsewhere.example');
  });

  it('does not remove a lock another process took after ours was released', () => {
    const file = path.join(dir(), '.tagi.lock');
    const lock = acquireLock(file, 'first');
    writeFileSync(file, JSON.stringify({ pid: process.pid, host: os.hostname(), command: 'second', startedAt: 'now', token: 'other' }));
    lock.release();
    expect(readLock(file)?.command).toBe('second');
  });
});
