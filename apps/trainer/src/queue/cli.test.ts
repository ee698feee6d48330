// The queue's flags at the edge: a bad --queue URL, a command that does not take --queue, and `tagi
// worker` without a queue or with a bad number each exit 2 naming the flag and the expected form, before
// anything is loaded or connected (no Redis needed here).
import { mkdtempSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { captureIO } from '../test-helpers.js';
import { QueueArgumentError, parseQueueUrl } from './cli.js';

async function tagi(argv: string[]) {
  const io = captureIO();
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

const root = mkdtempSync(path.join(os.tmpdir(), 'tagi-queue-cli-'));

describe('--queue', () => {
  it.each([
    ['redis://127.0.0.1:6379', { host: '127.0.0.1', port: 6379, db: 0, url: 'redis://127.0.0.1:6379/0' }],
    ['redis://queue.lan:7000/3', { host: 'queue.lan', port: 7000, db: 3, url: 'redis://queue.lan:7000/3' }],
    ['redis://[::1]:6379/1', { host: '::1', port: 6379, db: 1, url: 'redis://[::1]:6379/1' }],
  ])('parses %s', (url, expected) => {
    expect(parseQueueUrl(url)).toEqual(expected);
  });

  it.each([
    ['127.0.0.1:6379', /expected redis:\/\/HOST:PORT\[\/DB\]/],
    ['redis://127.0.0.1', /expected redis:\/\/HOST:PORT\[\/DB\]/],
    ['redis://user:secret@127.0.0.1:6379', /expected redis:\/\/HOST:PORT\[\/DB\]/],
    ['redis://127.0.0.1:0', /port in 1\.\.65535/],
    ['redis://127.0.0.1:6379/16', /database number in 0\.\.15/],
    ['rediss://127.0.0.1:6379', /expected redis:\/\/HOST:PORT\[\/DB\]/],
  ])('refuses %s', (url, message) => {
    expect(() => parseQueueUrl(url)).toThrow(QueueArgumentError);
    expect(() => parseQueueUrl(url)).toThrow(message);
  });

  it('a bad URL on `tagi teachers` exits 2 naming --queue, before a run dir is made', async () => {
    const runDir = path.join(root, 'never');
    const r = await tagi(['teachers', '--preset=smoke', `--run-dir=${runDir}`, '--queue=localhost:6379']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`tagi: --queue: expected redis://HOST:PORT[/DB] (e.g. redis://127.0.0.1:6379/0), got 'localhost:6379'\n`);
    expect(existsSync(runDir)).toBe(false);
  });

  it('is refused by commands that do not queue, naming the ones that do', async () => {
    const r = await tagi(['demo', '--preset=smoke', '--queue=redis://127.0.0.1:6379']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`'tagi demo' does not use --queue (an option of: tagi teachers, tagi eval, tagi worker)`);
  });

  it('is listed in the help of teachers and eval', async () => {
    for (const c of ['teachers', 'eval']) expect((await tagi([c, '--help'])).out).toContain('--queue redis://HOST:PORT[/DB]');
    expect((await tagi(['--help'])).out).toMatch(/\n {2}worker {5}take/);
  });
});

describe('tagi worker', () => {
  it.each([
    [['worker'], /'tagi worker' needs --queue=redis:\/\/HOST:PORT\[\/DB\]/],
    [['worker', '--queue=redis://127.0.0.1:6379', '--concurrency=0'], /--concurrency: expected an integer in 1\.\.64, got '0'/],
    [['worker', '--queue=redis://127.0.0.1:6379', '--lock-seconds=soon'], /--lock-seconds: expected an integer in 1\.\.86400, got 'soon'/],
    [['worker', '--queue=redis://127.0.0.1:6379', '--run-dir=x'], /'tagi worker' does not use --run-dir/],
  ])('%j exits 2 naming the flag', async (argv, message) => {
    const r = await tagi(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('has its own help', async () => {
    const r = await tagi(['worker', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('shared file system');
  });
});
