// Reliability rows of issues 14 and 23 on the playground side, against the real server process: real
// symlinks, real sockets, real permissions (as an unprivileged user when the tests run as root), a real
// closed pipe, requests from another origin, weights holding NaN. Every row failed before the fix (a file
// symlink was served, a busy port printed a stack trace, a foreign page's POST generated an adapter, …).
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, writeSafetensors } from '@tagi/tensor-core/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedServer, appDir, runCli, spawnServer } from './spawn-server';
import { writeDoneRunState, writeSyntheticRun } from './synthetic-run';

const tinyConfig = fs.readFileSync(path.join(appDir, 'src', '__fixtures__', 'tiny-t5-config.json'), 'utf8');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
/** When root, permission rows run the server as `nobody`, for whom chmod 000 really denies access. */
const UNPRIVILEGED = isRoot ? { uid: 65534, gid: 65534 } : {};

interface ApiBody {
  error: { type: string; message: string };
  [key: string]: unknown;
}

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: ApiBody; text: string }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as ApiBody, text };
}
const post = (url: string, body: unknown) => getJson(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** No line of a JavaScript stack trace ("    at fn (file:line:col)"). */
function expectNoStack(text: string): void {
  expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** An HF T5 dir (empty weights) at `<run>/base-model`, recorded as the run's base model in trainer_state.json. */
async function writeTinyBase(dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), tinyConfig);
  fs.writeFileSync(path.join(dir, 'model.safetensors'), '');
  await writeDoneRunState(path.dirname(dir), [{ role: 'base-model', kind: 't5', path: path.basename(dir) }]);
}

describe('reliability: files leaving the served root', () => {
  let tmp: string;
  let root: string;
  let server: SpawnedServer;
  const SECRET = 'SECRET-outside-the-root-7f3a';

  beforeAll(async () => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-pg-rel-')));
    root = path.join(tmp, 'root');
    const outside = path.join(tmp, 'outside');
    fs.mkdirSync(outside, { recursive: true });
    fs.writeFileSync(path.join(outside, 'secret.json'), JSON.stringify({ rows: [{ method: SECRET }], prompt: { numPos: 1 } }));
    fs.writeFileSync(path.join(outside, 'secret.jsonl'), `{"step":1,"${SECRET}":1}\n`);
    fs.writeFileSync(path.join(outside, 'secret.md'), `| ${SECRET} |\n`);
    fs.writeFileSync(path.join(outside, 'config.json'), tinyConfig.replace('"t5"', `"t5", "${SECRET}": 1`));
    fs.writeFileSync(path.join(outside, 'model.safetensors'), SECRET);
    // one run dir per escaping file, so each row stands alone; each also has a harmless metrics.jsonl
    const run = (name: string): string => {
      const d = path.join(root, name);
      fs.mkdirSync(d, { recursive: true });
      if (name !== 'link-metrics') fs.writeFileSync(path.join(d, 'metrics.jsonl'), '{"step":1,"loss":2}\n');
      return d;
    };
    fs.symlinkSync('/etc/passwd', path.join(run('link-results-md'), 'results.md'));
    fs.symlinkSync(path.join(outside, 'secret.md'), path.join(run('link-results-md-2'), 'results.md'));
    fs.symlinkSync(path.join(outside, 'secret.json'), path.join(run('link-results-json'), 'results.json'));
    fs.symlinkSync(path.join(outside, 'secret.jsonl'), path.join(run('link-metrics'), 'metrics.jsonl'));
    fs.symlinkSync(path.join(outside, 'secret.json'), path.join(run('link-config'), 'config.json'));
    // checkpoint files: a base model whose config.json / weights live outside the root
    await writeTinyBase(path.join(run('link-ckpt-config'), 'base-model'));
    fs.rmSync(path.join(root, 'link-ckpt-config', 'base-model', 'config.json'));
    fs.symlinkSync(path.join(outside, 'config.json'), path.join(root, 'link-ckpt-config', 'base-model', 'config.json'));
    await writeTinyBase(path.join(run('link-ckpt-weights'), 'base-model'));
    fs.rmSync(path.join(root, 'link-ckpt-weights', 'base-model', 'model.safetensors'));
    fs.symlinkSync(path.join(outside, 'model.safetensors'), path.join(root, 'link-ckpt-weights', 'base-model', 'model.safetensors'));
    // a sharded checkpoint whose index names a shard outside the root
    const sharded = path.join(run('shard-escape'), 'base-model');
    fs.mkdirSync(sharded, { recursive: true });
    fs.writeFileSync(path.join(sharded, 'config.json'), tinyConfig);
    fs.writeFileSync(
      path.join(sharded, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { 'shared.weight': '../../../outside/model.safetensors' } }),
    );
    await writeDoneRunState(path.join(root, 'shard-escape'), [{ role: 'base-model', kind: 't5', path: 'base-model' }]);
    // the run state itself symlinked out, and a run state naming an artefact dir outside the root
    fs.symlinkSync(path.join(outside, 'secret.json'), path.join(run('link-state'), 'trainer_state.json'));
    await writeDoneRunState(run('state-escape'), [{ role: 'base-model', kind: 't5', path: '../../outside' }]);
    // a symlink that stays inside the root is fine
    const inside = run('link-inside');
    fs.writeFileSync(path.join(root, 'shared-results.md'), '| inside | 1 |\n');
    fs.symlinkSync(path.join(root, 'shared-results.md'), path.join(inside, 'results.md'));
    // a large checkpoint file for downloads cut short
    fs.mkdirSync(path.join(root, 'big'));
    fs.writeFileSync(path.join(root, 'big', 'model.safetensors'), Buffer.alloc(48 * 1024 * 1024, 7));
    server = await spawnServer(['--root', root, '--backend', 'cpu']);
  });
  afterAll(async () => {
    await server?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it.skipIf(process.platform !== 'linux')('EPIPE/ECONNRESET: clients that hang up mid-download leave no open file and no crash', async () => {
    const fds = (): number => fs.readdirSync(`/proc/${server.child.pid}/fd`).length;
    const url = `${server.url}api/file?dir=big&name=model.safetensors`;
    // warm up once so lazily opened descriptors (tfjs, the tokenizer) are counted in the baseline
    await fetch(url).then((r) => r.arrayBuffer());
    const before = fds();
    for (let i = 0; i < 12; i++) {
      const ac = new AbortController();
      const res = await fetch(url, { signal: ac.signal });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      await reader.read();
      ac.abort();
      await reader.read().catch(() => undefined);
    }
    let after = fds();
    for (let i = 0; i < 50 && after > before; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = fds();
    }
    expect(after).toBeLessThanOrEqual(before);
    expect(server.child.exitCode).toBeNull();
    expect((await getJson(`${server.url}api/health`)).body).toEqual({ ok: true });
  });

  it.each([
    ['link-results-md', 'results.md', '/etc/passwd'],
    ['link-results-md-2', 'results.md', 'a file outside the root'],
    ['link-results-json', 'results.json', 'a file outside the root'],
    ['link-metrics', 'metrics.jsonl', 'a file outside the root'],
    ['link-config', 'config.json', 'a file outside the root'],
    ['link-state', 'trainer_state.json', 'a file outside the root'],
  ])('GET /api/run?dir=%s refuses %s -> %s with 403, reading nothing', async (run, file) => {
    const r = await getJson(`${server.url}api/run?dir=${run}`);
    expect(r.status).toBe(403);
    expect(r.body.error.type).toBe('PathAccessError');
    expect(r.body.error.message).toContain(path.join(root, run, file));
    expect(r.body.error.message).toMatch(/symlink to a file outside the playground roots/);
    expect(r.text).not.toContain(SECRET);
    expect(r.text).not.toMatch(/root:x?:0:0/);
  });

  it('refuses the run config.json symlink when listing examples with the run prompt', async () => {
    const r = await getJson(`${server.url}api/examples?dir=link-config`);
    expect(r.status).toBe(403);
    expect(r.text).not.toContain(SECRET);
  });

  it.each([
    ['link-ckpt-config', 'config.json'],
    ['link-ckpt-weights', 'model.safetensors'],
  ])('refuses a checkpoint of %s whose %s leaves the root, before any loader reads it', async (run, file) => {
    const open = await post(`${server.url}api/open`, { dir: run });
    expect(open.status).toBe(403);
    expect(open.body.error.message).toContain(path.join(root, run, 'base-model', file));
    expect(open.text).not.toContain(SECRET);
    const exec = await post(`${server.url}api/run`, { dir: run, instruction: 'Say hi.', inputs: ['hello'] });
    expect(exec.status).toBe(403);
    expect(exec.text).not.toContain(SECRET);
  });

  it('refuses a trainer_state.json symlinked out of the root when opening the run, reading nothing', async () => {
    const r = await post(`${server.url}api/open`, { dir: 'link-state' });
    expect(r.status).toBe(403);
    expect(r.body.error.message).toContain(path.join(root, 'link-state', 'trainer_state.json'));
    expect(r.text).not.toContain(SECRET);
  });

  it('does not open an artefact dir that the run state places outside the root: the model is unavailable, saying why', async () => {
    const r = await post(`${server.url}api/open`, { dir: 'state-escape' });
    expect(r.status).toBe(200);
    expect(r.body.models).toMatchObject({
      base: { available: false, reason: expect.stringMatching(/^'base-model' .*outside lies outside the playground roots \(start it with --root /) },
    });
    expect(r.text).not.toContain(SECRET);
  });

  it('refuses a sharded checkpoint whose index names a shard outside the root', async () => {
    const r = await post(`${server.url}api/open`, { dir: 'shard-escape' });
    expect(r.status).toBe(403);
    expect(r.body.error.message).toMatch(/model\.safetensors\.index\.json: outside the playground roots/);
  });

  it('serves a file symlink that stays inside the root', async () => {
    const r = await getJson(`${server.url}api/run?dir=link-inside`);
    expect(r.status).toBe(200);
    expect(r.body.resultsMarkdown).toBe('| inside | 1 |\n');
  });

  it('answers a path that is missing under the roots with 404 (not 403, not 500)', async () => {
    const r = await getJson(`${server.url}api/run?dir=${encodeURIComponent('link-inside/metrics.jsonl/x')}`);
    expect(r.status).toBe(404);
    expect(r.body.error.message).toMatch(/no such file or directory under the playground roots/);
  });
});

describe('reliability: operating-system errors become readable JSON errors', () => {
  let tmp: string;
  let root: string;
  let server: SpawnedServer;

  beforeAll(async () => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-pg-os-')));
    root = path.join(tmp, 'root');
    // EISDIR: a run whose metrics.jsonl is a directory
    fs.mkdirSync(path.join(root, 'dir-metrics', 'metrics.jsonl'), { recursive: true });
    fs.writeFileSync(path.join(root, 'dir-metrics', 'results.md'), 'x\n');
    // EACCES: unreadable files (the server runs as an unprivileged user when we are root)
    fs.mkdirSync(path.join(root, 'unreadable'), { recursive: true });
    fs.writeFileSync(path.join(root, 'unreadable', 'metrics.jsonl'), '{"step":1}\n');
    fs.chmodSync(path.join(root, 'unreadable', 'metrics.jsonl'), 0o000);
    await writeTinyBase(path.join(root, 'unreadable-ckpt', 'base-model'));
    fs.writeFileSync(path.join(root, 'unreadable-ckpt', 'metrics.jsonl'), '');
    fs.chmodSync(path.join(root, 'unreadable-ckpt', 'base-model', 'model.safetensors'), 0o000);
    // the unprivileged server must be able to enter the temp dirs
    for (const d of [tmp, root]) fs.chmodSync(d, 0o755);
    server = await spawnServer(['--root', root, '--backend', 'cpu'], UNPRIVILEGED);
  });
  afterAll(async () => {
    await server?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('EISDIR: a metrics.jsonl that is a directory is a 422 naming it, not an internal error', async () => {
    const r = await getJson(`${server.url}api/run?dir=dir-metrics`);
    expect(r.status).toBe(422);
    expect(r.body.error.type).toBe('EISDIR');
    expect(r.body.error.message).toContain(path.join(root, 'dir-metrics', 'metrics.jsonl'));
    expect(r.body.error.message).toMatch(/is a directory where a file was expected/);
  });

  it('EACCES: an unreadable run file is a 403 naming it and saying what to do', async () => {
    const r = await getJson(`${server.url}api/run?dir=unreadable`);
    expect(r.status).toBe(403);
    expect(r.body.error.type).toBe('EACCES');
    expect(r.body.error.message).toContain(path.join(root, 'unreadable', 'metrics.jsonl'));
    expect(r.body.error.message).toMatch(/permission denied \(make it readable by the user running the playground/);
    expectNoStack(r.text);
  });

  it('EACCES: an unreadable checkpoint file is refused when the run is opened, naming the file', async () => {
    const r = await post(`${server.url}api/open`, { dir: 'unreadable-ckpt' });
    expect(r.status).toBe(403);
    expect(r.body.error.type).toBe('EACCES');
    expect(r.body.error.message).toContain(path.join(root, 'unreadable-ckpt', 'base-model', 'model.safetensors'));
  });

  it.each([
    ['spaces, tabs and newlines', ' \t\n  \r\n'],
    ['no-break and ideographic spaces', '\u00a0\u3000\u2003'],
    ['zero-width characters', '\u200b\u2060\ufeff'],
  ])('rejects an instruction of only %s with 400 (generate and run)', async (_what, instruction) => {
    for (const route of ['generate', 'run']) {
      const r = await post(`${server.url}api/${route}`, { dir: 'dir-metrics', instruction, inputs: ['x'] });
      expect(r.status, route).toBe(400);
      expect(r.body.error.message).toMatch(/^instruction: only whitespace or invisible characters/);
    }
    const inputs = await post(`${server.url}api/run`, { dir: 'dir-metrics', instruction: 'Say hi.', inputs: ['ok', instruction] });
    expect(inputs.status).toBe(400);
    expect(inputs.body.error.message).toMatch(/^inputs: /);
  });
});

describe('reliability: start-up faults are one line and exit 2', () => {
  it('a port already in use names the port and what to do', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const r = await runCli(['--no-default-root', '--port', String(port)], { rawArgs: true });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([
        `tagi-playground: port ${port} on 127.0.0.1 is already in use (another playground or server?): stop that process, or pass --port with a free port (--port 0 picks one)`,
      ]);
      expectNoStack(r.stderr);
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
  });

  it.skipIf(!isRoot && process.platform !== 'linux')('a privileged port without the privilege says which ports work', async () => {
    const r = await runCli(['--no-default-root', '--port', '80'], { rawArgs: true, ...UNPRIVILEGED });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tagi-playground: port 80 on 127\.0\.0\.1: not allowed to listen there \(ports below 1024 need privileges\): pass --port 5178/);
    expectNoStack(r.stderr);
  });

  it('an address this machine does not have is named', async () => {
    const r = await runCli(['--no-default-root', '--port', '0', '--host', '192.0.2.1'], { rawArgs: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/tagi-playground: --host 192\.0\.2\.1: not an address of this machine \(pass --host 127\.0\.0\.1/);
    expectNoStack(r.stderr);
  });

  it.each([
    [['--prot', '80'], /unknown argument "--prot" \(did you mean --port\?\)/],
    [['--roots=runs'], /unknown argument "--roots" \(did you mean --root\?\)/],
    [['--max-new-token', '8'], /did you mean --max-new-tokens\?/],
    [['--max-instruction-tokens', '64'], /--max-instruction-tokens was removed: an instruction now gets the run's own token budget/],
    [['runs'], /unexpected argument "runs": .*did you mean --root runs\?/],
    [['--root', '--port', '1'], /--root: expected a directory/],
    [['--no-default-root=yes'], /--no-default-root takes no value/],
  ])('flags %j: exit 2 with a suggestion', async (argv, message) => {
    const r = await runCli(argv as string[], { rawArgs: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a --root that is a file is named with what to do', async () => {
    const file = path.join(os.tmpdir(), `tagi-pg-root-file-${process.pid}`);
    fs.writeFileSync(file, '');
    try {
      const r = await runCli(['--root', file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--root ${file}: not an existing directory`);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it('EPIPE: when the reader of stdout goes away the server keeps serving and does not crash', async () => {
    const port = await freePort();
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts', '--no-default-root', '--port', String(port)], {
      cwd: appDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // `| head -0`: the pipe's read end is closed before the server prints its URL
    child.stdout.destroy();
    try {
      let health: { ok?: boolean } | undefined;
      for (let i = 0; i < 300 && !health; i++) {
        if (child.exitCode !== null) break;
        health = await fetch(`http://127.0.0.1:${port}/api/health`)
          .then((r) => r.json() as Promise<{ ok: boolean }>)
          .catch(() => undefined);
        if (!health) await new Promise((r) => setTimeout(r, 200));
      }
      expect(health).toEqual({ ok: true });
      // the URL lines were written after the pipe closed; the server is still alive and serving
      await new Promise((r) => setTimeout(r, 500));
      expect(child.exitCode).toBeNull();
      expect(await fetch(`http://127.0.0.1:${port}/api/health`).then((r) => r.json())).toEqual({ ok: true });
      expect(stderr).toMatch(/stdout was closed by its reader/);
      expectNoStack(stderr);
    } finally {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    }
  });
});

/** A request with headers fetch may not set (Origin, Host); the JSON answer. */
function request(url: string, method: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: ApiBody }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method,
        headers: { ...(text ? { 'content-type': 'application/json' } : {}), ...headers },
      },
      (res) => {
        let data = '';
        res.on('data', (d) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) as ApiBody }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** `file` rewritten with a NaN as the first value of its first float tensor (sorted by key); returns that key. */
async function poison(file: string): Promise<string> {
  const { tensors, metadata } = await readSafetensors(file);
  const key = [...tensors.keys()].sort().find((k) => tensors.get(k)?.dtype === 'float32') as string;
  const values = Float32Array.from((tensors.get(key) as tf.Tensor).dataSync());
  values[0] = Number.NaN;
  const bad = tf.tensor(values, (tensors.get(key) as tf.Tensor).shape);
  await writeSafetensors(file, new Map([...tensors, [key, bad]]), metadata);
  tf.dispose([...tensors.values(), bad]);
  return key;
}

describe('reliability: requests from other origins, weights holding NaN', () => {
  let tmp: string;
  let server: SpawnedServer;
  const keys: Record<string, string> = {};
  const generate = (dir: string) => ({ dir, instruction: 'Return the last word.' });

  beforeAll(async () => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-pg-origin-')));
    await writeSyntheticRun(path.join(tmp, 'good'));
    // the same run with a NaN in the base model, and one with a NaN in the hypernetwork
    for (const [name, file] of [
      ['nan-base', 'base-model/model.safetensors'],
      ['nan-hypernet', 'hypernet/hypernet.safetensors'],
    ] as const) {
      fs.cpSync(path.join(tmp, 'good'), path.join(tmp, name), { recursive: true });
      keys[name] = await poison(path.join(tmp, name, file));
    }
    server = await spawnServer(['--root', tmp, '--backend', 'cpu']);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a POST from a foreign Origin is 403 and spends nothing; this page (same Origin) and clients without an Origin are served', async () => {
    const u = new URL(server.url);
    const foreign = await request(`${server.url}api/generate`, 'POST', { origin: 'http://evil.example.com' }, generate('good'));
    expect(foreign.status).toBe(403);
    expect(foreign.body.error).toEqual({
      type: 'ForeignOrigin',
      message: `POST /api/generate from http://evil.example.com: the playground's API answers its own page only (open http://${u.host}/)`,
    });
    // another port of this machine (a notebook server, say) and an opaque origin are other origins too
    for (const origin of [`http://localhost:${Number(u.port) + 1}`, 'null', `http://${u.host}.evil.example.com`]) {
      expect((await request(`${server.url}api/open`, 'POST', { origin }, { dir: 'good' })).status, origin).toBe(403);
    }
    // a browser's request without an Origin (an <img>, a form's GET) still says where it comes from
    expect((await request(`${server.url}api/runs`, 'GET', { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await request(`${server.url}api/runs`, 'GET', { 'sec-fetch-site': 'same-site' })).status).toBe(403);
    // a rebound DNS name is still answered 421 first
    expect(
      (await request(`${server.url}api/generate`, 'POST', { host: `evil.example.com:${u.port}`, origin: 'http://evil.example.com' }, generate('good'))).status,
    ).toBe(421);
    // the page itself: the browser names this origin (localhost works as well as 127.0.0.1)
    const own = await request(`${server.url}api/generate`, 'POST', { origin: `http://${u.host}`, 'sec-fetch-site': 'same-origin' }, generate('good'));
    expect(own.status, JSON.stringify(own.body)).toBe(200);
    expect(own.body['id']).toBe('a1'); // the first adapter this server made: the refused requests made none
    const viaLocalhost = await request(`http://localhost:${u.port}/api/generate`, 'POST', { origin: `http://localhost:${u.port}` }, generate('good'));
    expect(viaLocalhost.status).toBe(200);
    const script = await post(`${server.url}api/generate`, generate('good')); // no Origin: curl, scripts, tests
    expect(script.status).toBe(200);
    expect(script.body['id']).toBe('a3');
    expect((await request(`${server.url}api/runs`, 'GET', { 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect(server.output()).toMatch(/POST \/api\/generate -> 403: from http:\/\/evil\.example\.com/);
  });

  it('a base model or hypernetwork holding NaN is refused naming the file and tensor; --allow-non-finite serves it with a warning', async () => {
    const base = await post(`${server.url}api/run`, { dir: 'nan-base', instruction: 'Return the last word.', inputs: ['a b c'] });
    expect(base.status).toBe(422);
    expect(base.body.error.type).toBe('CheckpointError');
    const baseFile = path.join(tmp, 'nan-base', 'base-model', 'model.safetensors');
    expect(base.body.error.message).toBe(
      `${path.join(tmp, 'nan-base', 'base-model')}: cannot load the T5 checkpoint: ${baseFile}: tensor '${keys['nan-base']}' holds non-finite values (NaN: 1, ±Inf: 0): corrupt or diverged weights; the playground refuses them (start it with --allow-non-finite to use them anyway)`,
    );
    const hn = await post(`${server.url}api/generate`, generate('nan-hypernet'));
    expect(hn.status).toBe(422);
    const hnFile = path.join(tmp, 'nan-hypernet', 'hypernet', 'hypernet.safetensors');
    expect(hn.body.error.message).toContain(
      `cannot load the hypernet checkpoint: ${hnFile}: tensor '${keys['nan-hypernet']}' holds non-finite values (NaN: 1, ±Inf: 0)`,
    );
    expect((await getJson(`${server.url}api/health`)).body).toEqual({ ok: true });

    const lenient = await spawnServer(['--root', tmp, '--backend', 'cpu', '--allow-non-finite']);
    try {
      const r = await post(`${lenient.url}api/generate`, generate('nan-hypernet'));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(lenient.output()).toContain(
        `warning: ${hnFile}: tensor '${keys['nan-hypernet']}' holds non-finite values (NaN: 1, ±Inf: 0): corrupt or diverged weights; used anyway (--allow-non-finite)`,
      );
    } finally {
      await lenient.stop();
    }
  }, 120_000);
});
