// The queue's flags at the edge: a bad --queue URL (its password never shown back), a command that does
// not take --queue, a queue nothing listens on, and `tagi worker` without a queue or with a bad number
// each exit 2 naming the flag and the expected form, before anything is loaded or a run dir is made (no
// Redis needed here; queue/faults.test.ts has the real ones).
import { mkdtempSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.js';
import { captureIO } from '../common/test-helpers.js';
import { QueueArgumentError, parseQueueUrl, redact } from './cli.js';
import { freePort } from './redis-harness.js';

async function tagi(argv: string[]) {
  const io = captureIO();
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

const root = mkdtempSync(path.join(os.tmpdir(), 'tagi-queue-cli-'));
/** A T5 dir that passes the argument checks (t5-model's golden fixture). */
const TINY_T5 = path.resolve(import.meta.dirname, '../../../../packages/t5-model/__fixtures__/t5/tiny-relu-tied');

describe('--queue', () => {
  const noEnv = {};
  it.each([
    [
      'redis://127.0.0.1:6379',
      { host: '127.0.0.1', port: 6379, db: 0, tls: false, url: 'redis://127.0.0.1:6379/0', urlWithoutPassword: 'redis://127.0.0.1:6379/0' },
    ],
    [
      'redis://queue.lan:7000/3',
      { host: 'queue.lan', port: 7000, db: 3, tls: false, url: 'redis://queue.lan:7000/3', urlWithoutPassword: 'redis://queue.lan:7000/3' },
    ],
    ['redis://[::1]:6379/1', { host: '::1', port: 6379, db: 1, tls: false, url: 'redis://[::1]:6379/1', urlWithoutPassword: 'redis://[::1]:6379/1' }],
    // requirepass, an ACL user (percent-encoded, decoded as ioredis decodes it), TLS
    [
      'redis://:s3cret@10.0.0.5:6379',
      {
        host: '10.0.0.5',
        port: 6379,
        db: 0,
        password: 's3cret',
        tls: false,
        url: 'redis://:***@10.0.0.5:6379/0',
        urlWithoutPassword: 'redis://10.0.0.5:6379/0',
      },
    ],
    [
      'redis://tagi%40lab:p%40ss%2Fw%3Ard@queue.lan:6380/2',
      {
        host: 'queue.lan',
        port: 6380,
        db: 2,
        username: 'tagi@lab',
        password: 'p@ss/w:rd',
        tls: false,
        url: 'redis://tagi%40lab:***@queue.lan:6380/2',
        urlWithoutPassword: 'redis://tagi%40lab@queue.lan:6380/2',
      },
    ],
    [
      'rediss://:pw@queue.lan:6380',
      {
        host: 'queue.lan',
        port: 6380,
        db: 0,
        password: 'pw',
        tls: true,
        url: 'rediss://:***@queue.lan:6380/0',
        urlWithoutPassword: 'rediss://queue.lan:6380/0',
      },
    ],
  ])('parses %s', (url, expected) => {
    expect(parseQueueUrl(url, '--queue', noEnv)).toEqual(expected);
  });

  it('takes the password from $TAGI_QUEUE_PASSWORD when the URL gives none, and then shows none', () => {
    const env = { TAGI_QUEUE_PASSWORD: 'from-env' };
    expect(parseQueueUrl('redis://tagi@127.0.0.1:6379', '--queue', env)).toMatchObject({
      username: 'tagi',
      password: 'from-env',
      url: 'redis://tagi@127.0.0.1:6379/0',
    });
    expect(parseQueueUrl('redis://:in-url@127.0.0.1:6379', '--queue', env)).toMatchObject({ password: 'in-url', url: 'redis://:***@127.0.0.1:6379/0' });
    const q = parseQueueUrl('redis://:p%40ss@127.0.0.1:6379', '--queue', noEnv);
    expect(redact(q, 'AUTH p@ss failed; url redis://:p%40ss@h')).toBe('AUTH *** failed; url redis://:***@h');
  });

  it.each([
    ['127.0.0.1:6379', /expected redis\[s\]:\/\/\[\[USER\]:PASSWORD@\]HOST:PORT\[\/DB\]/],
    ['redis://127.0.0.1', /expected redis\[s\]:\/\/\[\[USER\]:PASSWORD@\]HOST:PORT\[\/DB\]/],
    ['redis://127.0.0.1:0', /port in 1\.\.65535/],
    ['redis://127.0.0.1:6379/16', /database number in 0\.\.15/],
    ['http://127.0.0.1:6379', /expected redis\[s\]:\/\//],
    // an unencoded '@' in the password: refused with how to write it, and the password is not shown back
    ['redis://:p@ss@127.0.0.1:6379', /percent-encode '@', '\/' and ':' inside the user name and password, got 'redis:\/\/:\*\*\*@127\.0\.0\.1:6379'$/],
    ['redis://:bad%E0@127.0.0.1:6379', /correctly percent-encoded user name and password, got 'redis:\/\/:\*\*\*@127\.0\.0\.1:6379'$/],
  ])('refuses %s', (url, message) => {
    expect(() => parseQueueUrl(url, '--queue', noEnv)).toThrow(QueueArgumentError);
    expect(() => parseQueueUrl(url, '--queue', noEnv)).toThrow(message);
  });

  it('a bad URL on `tagi teachers` exits 2 naming --queue, before a run dir is made', async () => {
    const runDir = path.join(root, 'never');
    const r = await tagi(['teachers', '--preset=smoke', `--run-dir=${runDir}`, '--queue=localhost:6379']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `tagi: --queue: expected redis[s]://[[USER]:PASSWORD@]HOST:PORT[/DB] (e.g. redis://127.0.0.1:6379/0, redis://:PASSWORD@queue.lan:6379), got 'localhost:6379'\n`,
    );
    expect(existsSync(runDir)).toBe(false);
  });

  it('an unreachable queue on `tagi teachers` exits 2 naming it, before a run dir is made', async () => {
    const runDir = path.join(root, 'unreachable');
    const port = await freePort(); // nothing listens there
    const r = await tagi(['teachers', '--preset=smoke', `--run-dir=${runDir}`, `--model=${TINY_T5}`, `--queue=redis://:pw@127.0.0.1:${port}`]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `tagi: cannot connect to redis://:***@127.0.0.1:${port}/0: connect ECONNREFUSED 127.0.0.1:${port}; is redis-server running there and reachable from this machine?\n`,
    );
    expect(existsSync(runDir)).toBe(false);
  });

  it('is refused by commands that do not queue, naming the ones that do', async () => {
    const r = await tagi(['demo', '--preset=smoke', '--queue=redis://127.0.0.1:6379']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`'tagi demo' does not use --queue (an option of: tagi teachers, tagi eval, tagi worker)`);
  });

  it('is listed in the help of teachers and eval', async () => {
    for (const c of ['teachers', 'eval']) expect((await tagi([c, '--help'])).out).toContain('--queue redis[s]://[[USER]:PASSWORD@]HOST:PORT[/DB]');
    expect((await tagi(['--help'])).out).toMatch(/\n {2}worker {5}take/);
  });
});

describe('tagi worker', () => {
  it.each([
    [['worker'], /'tagi worker' needs --queue=redis\[s\]:\/\/\[\[USER\]:PASSWORD@\]HOST:PORT\[\/DB\]/],
    [['worker', '--queue=redis://127.0.0.1:6379', '--allow-non-finite=yes'], /--allow-non-finite takes no value/],
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
