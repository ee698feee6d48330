// Queue faults as a deployment meets them, each with real processes: redis-server instances started here
// (requirepass, an ACL user, TLS with a private CA) and `tagi worker` / `tagi teachers --queue` from
// source. Rows of issue 23: a Redis that requires a password (none given, a wrong one) exits 2 at once
// naming the cause, for the worker and the enqueuer; credentials and TLS in the URL are accepted and the
// password appears in no output and no file; a login refused later stops the worker with exit 2; a
// queued teacher job whose loss turns NaN fails once with the resume command, and the resume with a
// lower lr finishes; SIGTERM while Redis is down stops the worker and the enqueuer within a bounded time,
// the running job checkpointed. Without redis-server the suite is skipped with a message.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { findNonFinite } from '@tagi/tensor-core';
import { readSafetensors } from '@tagi/tensor-core/node';
import { readRunState } from '@tagi/run-dir/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../cli/main.js';
import { captureIO } from '../common/test-helpers.js';
import { REDIS_GRACE_SECONDS } from './cli.js';
import { NO_REDIS_MESSAGE, type RedisServer, findRedisServer, startRedis } from './redis-harness.js';

const appDir = path.resolve(import.meta.dirname, '..', '..');
const tsx = pathToFileURL(path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs')).href;
const redisBin = findRedisServer();
if (redisBin === undefined) console.warn(NO_REDIS_MESSAGE);
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

// the default user's requirepass, and an ACL user whose password needs percent-encoding in a URL
const PASS = 'requirepass-5f81c2';
const USER = 'tagi';
const USER_PASS = 'acl/p@ss:7d0e';
const SECRETS = [PASS, USER_PASS, encodeURIComponent(USER_PASS)];
const SMOKE = ['--preset=smoke', '--backend=cpu'];
/** Teachers in banks of two groups: several queue jobs (one per bank), each with its own checkpoints. */
const SMOKE_BANKS = [...SMOKE, '--teachers.bank-size=2'];

const root = mkdtempSync(path.join(os.tmpdir(), 'tagi-queue-faults-'));
const dir = (n: string) => path.join(root, n);
const model = dir('base/base-model');

interface Exit {
  code: number | null;
  out: string;
  err: string;
  /** Milliseconds from start (or from `since`, see stop()) to exit. */
  ms: number;
}

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});

/** `tagi <args>` as its own process (from source); `waitFor` resolves when its output matches. */
function start(args: string[], env: Record<string, string> = {}) {
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--import', tsx, path.join(appDir, 'src', 'cli.ts'), ...args], {
    cwd: root,
    env: { ...process.env, TSX_TSCONFIG_PATH: path.join(appDir, 'tsconfig.json'), FORCE_COLOR: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<Exit>((resolve) => child.on('close', (code) => resolve({ code, out, err, ms: Date.now() - t0 })));
  return {
    child,
    done,
    output: () => out + err,
    waitFor: async (re: RegExp, ms = 90_000) => {
      const end = Date.now() + ms;
      while (!re.test(out + err)) {
        if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before ${re}:\n${out}\n${err}`);
        if (Date.now() > end) throw new Error(`timed out waiting for ${re}:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}
const tagi = (args: string[], env: Record<string, string> = {}) => start(args, env).done;

/** The stderr of a user-facing failure: one line, no stack, no "internal error". */
function oneLine(e: Exit): string {
  expect(e.err).not.toMatch(/internal error|\n\s+at /);
  const lines = e.err
    .trim()
    .split('\n')
    .filter((l) => !/^tagi: SIGTERM received/.test(l) && l.trim() !== '');
  expect(lines, e.err).toHaveLength(1);
  return lines[0] as string;
}

function expectNoSecret(text: string, where: string): void {
  for (const s of SECRETS) expect(text.includes(s), `${where} shows a password`).toBe(false);
}

function filesUnder(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(d, e.name)) : [path.join(d, e.name)]));
}

/** Every checkpoint state and adapter under `d` holds finite numbers only; returns how many files were checked. */
async function expectFiniteWeights(d: string): Promise<number> {
  const files = existsSync(d) ? filesUnder(d).filter((f) => f.endsWith('.safetensors')) : [];
  for (const f of files) {
    const { tensors } = await readSafetensors(f);
    expect(findNonFinite(tensors), f).toBeUndefined();
    for (const t of tensors.values()) t.dispose();
  }
  return files.length;
}

const servers: RedisServer[] = [];
async function redisWith(opts: Parameters<typeof startRedis>[1]): Promise<RedisServer> {
  const r = await startRedis(redisBin as string, opts);
  servers.push(r);
  return r;
}

describe.skipIf(redisBin === undefined)('queue faults (real redis-server processes with passwords, ACL users, TLS)', () => {
  let redis: RedisServer;
  const plain = () => `redis://127.0.0.1:${redis.port}/0`;
  const asUser = () => `redis://${USER}:${encodeURIComponent(USER_PASS)}@127.0.0.1:${redis.port}/0`;
  const maskedUser = () => `redis://${USER}:***@127.0.0.1:${redis.port}/0`;

  beforeAll(async () => {
    redis = await redisWith({ requirepass: PASS, users: [[USER, 'on', `>${USER_PASS}`, '~*', '&*', '+@all']] });
    const io = captureIO();
    const code = await main(['base', ...SMOKE, `--run-dir=${dir('base')}`], io);
    expect(code, io.err()).toBe(0);
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) await s.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('no password or a wrong one: the worker and the enqueuer exit 2 at once naming the cause; no run dir, no password shown', async () => {
    const [none, wrong, enqueuer] = await Promise.all([
      tagi(['worker', `--queue=${plain()}`]),
      tagi(['worker', `--queue=redis://:not-the-password@127.0.0.1:${redis.port}`]),
      tagi(['teachers', ...SMOKE, `--model=${model}`, `--run-dir=${dir('refused')}`, `--queue=${plain()}`]),
    ]);
    const noauth = `${plain()}: Redis requires a password (NOAUTH Authentication required.); give it in the URL (redis://:PASSWORD@HOST:PORT, or redis://USER:PASSWORD@… for an ACL user) or in $TAGI_QUEUE_PASSWORD`;
    expect(none.code).toBe(2);
    expect(oneLine(none)).toBe(`tagi: ${noauth}`);
    expect(none.out).not.toMatch(/waiting for jobs/);
    expect(wrong.code).toBe(2);
    expect(oneLine(wrong)).toBe(
      `tagi: redis://:***@127.0.0.1:${redis.port}/0: Redis refused the login (WRONGPASS invalid username-password pair or user is disabled.); check the user name and password`,
    );
    expect(wrong.out + wrong.err).not.toContain('not-the-password');
    expect(enqueuer.code).toBe(2);
    expect(oneLine(enqueuer)).toBe(`tagi: ${noauth}`);
    expect(existsSync(dir('refused'))).toBe(false);
    console.log(`exit 2 after (process start included): worker ${none.ms} ms, wrong password ${wrong.ms} ms, enqueuer ${enqueuer.ms} ms`);
  }, 120_000);

  it('an ACL user: a queued teacher whose loss turns NaN fails once with the resume command; the resume with a lower lr finishes; no password in any output or file', async () => {
    const worker = start(['worker', `--queue=${asUser()}`, '--lock-seconds=5']);
    await worker.waitFor(/waiting for jobs/);
    expect(worker.output()).toContain(`waiting for jobs on ${maskedUser()}`);
    const runDir = dir('diverged');
    // lr 1e30: the LoRA weights after update 1 are ~1e30, so update 2's loss overflows (1e12 only saturates a LoRA's softmax)
    const first = await tagi(['teachers', ...SMOKE_BANKS, '--teachers.train.lr=1e30', `--model=${model}`, `--run-dir=${runDir}`, `--queue=${asUser()}`]);
    expect(first.code, first.err).toBe(2);
    const banks = Object.keys(readRunState(runDir)!.stages).filter((s) => s.startsWith('teachers/'));
    expect(banks.length).toBeGreaterThan(1);
    expect(first.err).toContain(`${banks.length} of ${banks.length} teachers jobs failed`);
    for (const g of banks) {
      // smoke teachers: 2 updates, no checkpoint before the last, so nothing to continue from
      expect(first.err).toContain(
        `  ${g}: stage ${g} diverged at update 2/2: loss NaN, gradient norm NaN (lr 1e+30); the update was not applied and nothing of it saved, and the stage wrote no output; ` +
          `a resume starts the stage again. Continue with a lower learning rate (the smoke preset's): tagi teachers --resume --run-dir=${runDir} --queue=${maskedUser()} --teachers.train.lr=0.005\n`,
      );
    }
    expect(first.err).toMatch(
      new RegExp(
        `fix the cause, then continue with: tagi teachers --resume --run-dir=${runDir} --queue=redis://tagi:\\*\\*\\*@127\\.0\\.0\\.1:${redis.port}/0\\n$`,
      ),
    );
    // nothing was written but (finite) checkpoints: no teacher, no multitask adapter
    expect(existsSync(path.join(runDir, 'teachers')) ? readdirSync(path.join(runDir, 'teachers')) : []).toEqual([]);
    expect(existsSync(path.join(runDir, 'multitask-adapter'))).toBe(false);
    await expectFiniteWeights(path.join(runDir, 'checkpoints'));

    const resumed = await tagi(['teachers', '--resume', `--run-dir=${runDir}`, '--teachers.train.lr=0.005', `--queue=${asUser()}`]);
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.out).toContain('resuming with changed settings (config.json updated): teachers.train.lr 1e+30 → 0.005');
    // every bank wrote its groups' teachers (two per bank, the last bank may hold one)
    const teachers = readdirSync(path.join(runDir, 'teachers'));
    expect(teachers.length).toBeGreaterThan(banks.length);
    expect(teachers.length).toBeLessThanOrEqual(2 * banks.length);
    expect(await expectFiniteWeights(path.join(runDir, 'teachers'))).toBe(teachers.length);
    expect(JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8')).teachers.train.lr).toBe(0.005);
    expect(Object.values(readRunState(runDir)!.stages).every((s) => s.status === 'done')).toBe(true);

    worker.child.kill('SIGTERM');
    const w = await worker.done;
    expect(w.code).toBe(143);
    for (const [where, text] of [
      ['first enqueue', first.out + first.err],
      ['resumed enqueue', resumed.out + resumed.err],
      ['worker', w.out + w.err],
    ] as const)
      expectNoSecret(text, where);
    for (const f of filesUnder(runDir)) expectNoSecret(readFileSync(f, 'latin1'), f);
  }, 240_000);

  it('a login refused later (the password changed): the worker stops with exit 2 naming it', async () => {
    const own = await redisWith({ requirepass: PASS });
    const worker = start(['worker', `--queue=redis://127.0.0.1:${own.port}`], { TAGI_QUEUE_PASSWORD: PASS });
    await worker.waitFor(/waiting for jobs/);
    expect(worker.output()).toContain(`waiting for jobs on redis://127.0.0.1:${own.port}/0`); // a password from the environment is not shown at all
    const admin = new Redis({ port: own.port, host: '127.0.0.1', password: PASS });
    await admin.config('SET', 'requirepass', 'another-password');
    await admin.client('KILL', 'TYPE', 'normal'); // every client but this one must log in again
    await admin.quit();
    const r = await worker.done;
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `tagi: redis://127.0.0.1:${own.port}/0: Redis refused the login (WRONGPASS invalid username-password pair or user is disabled.); check the user name and password`,
    );
    expectNoSecret(r.out + r.err, 'worker');
  }, 90_000);

  it.skipIf(!hasOpenssl)(
    'rediss:// with a private CA: refused naming TLS without the CA, served with NODE_EXTRA_CA_CERTS',
    async () => {
      const pki = dir('pki');
      mkdirSync(pki);
      const ssl = (args: string[]) => {
        const r = spawnSync('openssl', args, { cwd: pki, encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
      };
      ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=tagi test CA']);
      ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
      writeFileSync(path.join(pki, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
      ssl([
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        'server.pem',
        '-days',
        '2',
        '-extfile',
        'ext.cnf',
      ]);
      const tls = await redisWith({ requirepass: PASS, tls: { cert: path.join(pki, 'server.pem'), key: path.join(pki, 'server.key') } });
      const url = `rediss://:${PASS}@127.0.0.1:${tls.port}`;
      const untrusted = await tagi(['worker', `--queue=${url}`]);
      expect(untrusted.code).toBe(2);
      // OpenSSL's wording of an unknown issuer varies with the chain the server sends
      expect(oneLine(untrusted)).toMatch(
        new RegExp(
          `^tagi: rediss://:\\*\\*\\*@127\\.0\\.0\\.1:${tls.port}/0: TLS connection failed \\((unable to verify the first certificate|self-signed certificate in certificate chain)\\); a server with a private CA needs NODE_EXTRA_CA_CERTS=ca\\.pem$`,
        ),
      );
      const trusted = start(['worker', `--queue=${url}`], { NODE_EXTRA_CA_CERTS: path.join(pki, 'ca.pem') });
      await trusted.waitFor(/waiting for jobs/);
      expect(trusted.output()).toContain(`waiting for jobs on rediss://:***@127.0.0.1:${tls.port}/0`);
      trusted.child.kill('SIGTERM');
      const r = await trusted.done;
      expect(r.code).toBe(143);
      expectNoSecret(untrusted.err + r.out + r.err, 'TLS workers');
    },
    90_000,
  );

  it('SIGTERM while Redis is down: the worker checkpoints its running job and exits 143, the enqueuer 143, both within the grace period', async () => {
    const own = await redisWith({ requirepass: PASS });
    const url = `redis://127.0.0.1:${own.port}/0`;
    const env = { TAGI_QUEUE_PASSWORD: PASS };
    const worker = start(['worker', `--queue=${url}`], env);
    await worker.waitFor(/waiting for jobs/);
    const runDir = dir('outage');
    // teachers long enough to be in the middle of one when Redis goes away
    const enqueuer = start(['teachers', ...SMOKE_BANKS, '--teachers.train.steps=400', `--model=${model}`, `--run-dir=${runDir}`, `--queue=${url}`], env);
    const checkpoints = path.join(runDir, 'checkpoints', 'teachers');
    const saved = () =>
      existsSync(checkpoints)
        ? readdirSync(checkpoints).flatMap((g) =>
            readdirSync(path.join(checkpoints, g))
              .filter((n) => n.startsWith('step-'))
              .map((n) => path.join(checkpoints, g, n)),
          )
        : [];
    const end = Date.now() + 120_000;
    while (saved().length === 0) {
      if (Date.now() > end || worker.child.exitCode !== null) throw new Error(`no teacher checkpoint appeared:\n${worker.output()}\n${enqueuer.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await own.stop();
    await worker.waitFor(/ECONNREFUSED.*\(reconnecting\)/);
    const t0 = Date.now();
    const exited = (p: typeof worker) => p.done.then((x) => ({ ...x, after: Date.now() - t0 }));
    worker.child.kill('SIGTERM');
    enqueuer.child.kill('SIGTERM');
    const [w, e] = await Promise.all([exited(worker), exited(enqueuer)]);
    const [wMs, eMs] = [w.after, e.after];
    console.log(`SIGTERM to exit during the outage: worker ${wMs} ms, enqueuer ${eMs} ms`);
    expect(w.code, w.out + w.err).toBe(143);
    expect(e.code, e.err).toBe(143);
    const bound = (REDIS_GRACE_SECONDS + 4) * 1000; // the grace, the current update, the last second of cli.ts
    expect(wMs).toBeLessThan(bound);
    expect(eMs).toBeLessThan(bound);
    expect(w.out).toMatch(
      /stopped; Redis did not take it back within 5 s: it returns to the queue when its lock expires \(120 s\) and resumes from its checkpoint/,
    );
    expect(e.err).toMatch(/interrupted while waiting for teachers jobs/);
    // the stopped job's checkpoint is on disk, finite and newer than the one seen before the outage
    const newest = saved().sort().at(-1) as string;
    expect(statSync(path.join(newest, 'state.safetensors')).size).toBeGreaterThan(0);
    expect(await expectFiniteWeights(checkpoints)).toBeGreaterThan(0);
  }, 240_000);
});
