// Hardening tests against the real server process on 127.0.0.1.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedServer, appDir, spawnServer } from './spawn-server';
import { writeDoneRunState } from './synthetic-run';

const tinyConfig = fs.readFileSync(path.join(appDir, 'src', '__fixtures__', 'tiny-t5-config.json'), 'utf8');

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) };
}
const post = (url: string, body: unknown) => getJson(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('playground server hardening', () => {
  let tmp: string;
  let root: string;
  let server: SpawnedServer;
  const alive = async () => expect((await getJson(`${server.url}api/health`)).body).toEqual({ ok: true });

  beforeAll(async () => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-pg-hard-')));
    root = path.join(tmp, 'root');
    const run = path.join(root, 'run-1');
    fs.mkdirSync(path.join(run, 'base'), { recursive: true });
    fs.writeFileSync(path.join(run, 'metrics.jsonl'), '{"step":1,"loss":3}\n{"step":2,"loss":2}\n');
    fs.writeFileSync(path.join(run, 'base', 'config.json'), tinyConfig);
    fs.writeFileSync(path.join(run, 'base', 'model.safetensors'), '');
    await writeDoneRunState(run, [{ role: 'base-model', kind: 't5', path: 'base' }]);
    // a checkpoint whose config.json is wrong in two keys
    const bad = path.join(root, 'bad-model');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'config.json'), JSON.stringify({ ...JSON.parse(tinyConfig), d_model: 'wide', num_heads: -1 }));
    fs.writeFileSync(path.join(bad, 'model.safetensors'), '');
    const broken = path.join(root, 'broken-json');
    fs.mkdirSync(broken);
    fs.writeFileSync(path.join(broken, 'config.json'), '{not json');
    fs.writeFileSync(path.join(broken, 'model.safetensors'), '');
    fs.mkdirSync(path.join(tmp, 'secret'));
    fs.writeFileSync(path.join(tmp, 'secret', 'metrics.jsonl'), '{"step":1,"secret":42}\n');
    fs.symlinkSync(path.join(tmp, 'secret'), path.join(root, 'escape'));
    server = await spawnServer(['--root', root]);
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('binds loopback by default and prints its URL', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server.output()).not.toMatch(/WARNING/);
  });

  it('serves the page and lists the run dir under its root', async () => {
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('TAGI playground');
    const runs = await getJson(`${server.url}api/runs`);
    expect(runs.body.runs.map((r: any) => r.dir)).toEqual([path.join(root, 'run-1')]);
    const run = await getJson(`${server.url}api/run?dir=run-1`);
    expect(run.status).toBe(200);
    expect(run.body.metrics.map((m: any) => m.values.loss)).toEqual([3, 2]);
  });

  it.each(['../secret', 'run-1/../../secret', 'escape', '/etc', '<tmp>/secret'])('refuses %s with 403 and a readable message', async (given) => {
    const dir = given.replace('<tmp>', tmp);
    const r = await getJson(`${server.url}api/run?dir=${encodeURIComponent(dir)}`);
    expect(r.status).toBe(403);
    expect(r.body.error.type).toBe('PathAccessError');
    expect(r.body.error.message).toMatch(/outside the playground roots/);
    expect(JSON.stringify(r.body)).not.toContain('42');
    const o = await post(`${server.url}api/open`, { dir });
    expect(o.status).toBe(403);
    await alive();
  });

  it('does not serve files outside the page by URL traversal', async () => {
    for (const p of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/src/server.ts']) {
      const res = await fetch(`${server.url.slice(0, -1)}${p}`);
      expect(res.status, p).toBe(404);
      await res.text();
    }
    // a raw request path with '..' that fetch would normalise
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(server.url);
      http
        .get({ host: u.hostname, port: u.port, path: '/../../../etc/passwd' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    expect(status).toBe(404);
    await alive();
  });

  it('refuses an oversized body with 413 and keeps running', async () => {
    const r = await post(`${server.url}api/generate`, { dir: 'run-1', instruction: 'x'.repeat(100 * 1024) });
    expect(r.status).toBe(413);
    expect(r.body.error.type).toBe('BodyTooLarge');
    expect(r.body.error.message).toMatch(/larger than the 65536 bytes allowed/);
    // a body streamed without content-length is cut too
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(server.url);
      const req = http.request(
        {
          host: u.hostname,
          port: u.port,
          path: '/api/generate',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' || (e as NodeJS.ErrnoException).code === 'EPIPE' ? resolve(-1) : reject(e)));
      for (let i = 0; i < 40; i++) req.write('x'.repeat(4096));
      req.end();
    });
    expect([413, -1]).toContain(status);
    await alive();
  });

  it('says which model a run lacks, by role, instead of running it', async () => {
    const r = await post(`${server.url}api/generate`, { dir: 'run-1', instruction: 'Translate every word of the sentence into French.' });
    expect(r.status).toBe(503);
    expect(r.body.error.type).toBe('ModelUnavailable');
    expect(r.body.error.message).toMatch(
      /^TAGI hypernet: no hypernetwork in this run \(no artefact with role 'hypernet-tagi', 'hypernet-hint', 'hypernet-pretrained' in trainer_state\.json\)/,
    );
    await alive();
  });

  it('reports a bad checkpoint dir readably, naming the file and keys', async () => {
    const r = await post(`${server.url}api/open`, { dir: 'bad-model' });
    expect(r.status).toBe(422);
    expect(r.body.error.type).toBe('CheckpointError');
    expect(r.body.error.message).toContain(path.join(root, 'bad-model'));
    expect(r.body.error.message).toMatch(/d_model/);
    expect(r.body.error.message).toMatch(/num_heads/);
    const b = await post(`${server.url}api/open`, { dir: 'broken-json' });
    expect(b.status).toBe(422);
    expect(b.body.error.message).toMatch(/config\.json is not readable JSON/);
    const n = await post(`${server.url}api/open`, { dir: 'run-1/base/..' });
    expect(n.status).toBe(200);
    // the config is fine but model.safetensors is empty: the error comes when the weights are read
    const w = await post(`${server.url}api/run`, { dir: 'run-1', instruction: 'Say hi.', inputs: ['hello'] });
    expect(w.status).toBe(422);
    expect(w.body.error.type).toBe('CheckpointError');
    expect(w.body.error.message).toMatch(/cannot load the T5 checkpoint/);
    expect(w.body.error.message).toContain(path.join(root, 'run-1', 'base'));
    await alive();
  });

  it('refuses other Host names (DNS rebinding) and non-JSON posts (cross-site forms)', async () => {
    const u = new URL(server.url);
    const raw = (headers: Record<string, string>, method = 'GET', body?: string) =>
      new Promise<{ status: number; body: any }>((resolve, reject) => {
        const req = http.request({ host: u.hostname, port: u.port, path: method === 'GET' ? '/api/runs' : '/api/generate', method, headers }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const rebound = await raw({ host: `evil.example:${u.port}` });
    expect(rebound.status).toBe(421);
    expect(rebound.body.error.message).toMatch(/is not this playground/);
    expect((await raw({ host: `localhost:${u.port}` })).status).toBe(200);
    const form = await raw({ host: u.host, 'content-type': 'text/plain' }, 'POST', JSON.stringify({ dir: 'run-1', instruction: 'hi' }));
    expect(form.status).toBe(415);
    expect(form.body.error.type).toBe('UnsupportedMediaType');
    await alive();
  });

  it('answers malformed requests with JSON errors', async () => {
    const bad = await getJson(`${server.url}api/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.type).toBe('BadJson');
    const missing = await post(`${server.url}api/run`, { dir: 'run-1', instruction: 'Say hi.', inputs: [] });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/^inputs: expected a non-empty array/);
    const unknown = await getJson(`${server.url}api/nothing`);
    expect(unknown.status).toBe(404);
    const exp = await getJson(`${server.url}api/export?adapter=nope`);
    expect(exp.status).toBe(404);
    expect(exp.body.error.type).toBe('UnknownAdapter');
    await alive();
  });
});

describe('playground CLI', () => {
  it('rejects a --root that does not exist and bad flags', async () => {
    await expect(spawnServer(['--root', path.join(os.tmpdir(), 'definitely-missing-root-xyz')], { timeoutMs: 30_000 })).rejects.toThrow(
      /--root .*not an existing directory/,
    );
    await expect(spawnServer(['--port', 'abc'], { timeoutMs: 30_000 })).rejects.toThrow(/--port: expected an integer/);
  });
});
