// Routes of the HTTP layer in-process (a real server on 127.0.0.1) over a synthetic run: scored runs,
// what the in-page runner is told to fetch, the model-file route's confinement, the logits route.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exactMatch, rougeL } from '@tagi/eval';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticRun } from '../test/synthetic-run';
import { type RunningPlayground, startPlayground } from './app';
import { TagiEngine } from './engine';
import { checkDirFilesUnderRoots, resolveRoots } from './paths';

interface Json {
  [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- loosely typed API answers
}

describe('playground routes on a synthetic run', () => {
  let tmp: string;
  let root: string;
  let run: string;
  let webDir: string;
  let app: RunningPlayground;
  let engine: TagiEngine;
  const get = async (p: string): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${app.url}${p.replace(/^\//, '')}`);
    return { status: res.status, body: (await res.json()) as Json };
  };
  const post = async (p: string, body: unknown): Promise<{ status: number; body: Json; res: Response }> => {
    const res = await fetch(`${app.url}${p.replace(/^\//, '')}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const ct = res.headers.get('content-type') ?? '';
    return { status: res.status, res, body: ct.startsWith('application/json') ? ((await res.json()) as Json) : {} };
  };

  beforeAll(async () => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-pg-app-')));
    root = path.join(tmp, 'runs');
    run = path.join(root, 'synthetic');
    await writeSyntheticRun(run);
    fs.mkdirSync(path.join(root, 'no-hypernet'));
    fs.cpSync(path.join(run, 'base-model'), path.join(root, 'no-hypernet', 'base-model'), { recursive: true });
    fs.writeFileSync(path.join(root, 'no-hypernet', 'metrics.jsonl'), '');
    fs.writeFileSync(path.join(tmp, 'outside.json'), '{"secret": true}');
    fs.symlinkSync(path.join(tmp, 'outside.json'), path.join(root, 'no-hypernet', 'base-model', 'tokenizer.json'));
    webDir = path.join(tmp, 'web');
    fs.mkdirSync(webDir);
    const { roots } = resolveRoots([root]);
    engine = new TagiEngine({ backend: 'cpu', maxNewTokens: 4, checkDir: (d) => checkDirFilesUnderRoots(roots, d) });
    app = await startPlayground({ roots, engine, webDir });
  });
  afterAll(async () => {
    await app?.close();
    engine?.dispose();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('scores each answer against the expected outputs given with the run', async () => {
    const instruction = 'Output the fifth word of the input.';
    const inputs = ['one two three four five six', 'no reference here'];
    const references = [['five', 'Five'], null];
    const { status, body } = await post('/api/run', { dir: run, instruction, inputs, references });
    expect(status).toBe(200);
    expect(body.results.map((r: Json) => r.model)).toEqual(['tagi', 'base', 'concat']);
    for (const r of body.results) {
      if (!r.outputs) continue;
      expect(r.scores).toEqual([{ exactMatch: exactMatch(r.outputs[0], references[0]!), rougeL: rougeL(r.outputs[0], references[0]!) }, null]);
      expect(r.tokens).toHaveLength(2);
    }
    const noScores = await post('/api/run', { dir: run, instruction, inputs });
    expect(noScores.body.results.every((r: Json) => r.scores === undefined)).toBe(true);
  });

  it.each([
    [['five'], /^references: expected an array of 2 entries/],
    [[['five'], 3], /^references\.1: expected null or 1 to 16 strings/],
    [[[], null], /^references\.0: expected null or 1 to 16 strings/],
  ])('refuses malformed references %j with 400', async (references, message) => {
    const r = await post('/api/run', { dir: run, instruction: 'Say hi.', inputs: ['a', 'b'], references });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(message);
  });

  it('tells the page the runner is not built when the bundle is missing, and why a dir cannot run', async () => {
    const missing = await get(`/api/in-page?dir=${encodeURIComponent(run)}`);
    expect(missing.body).toEqual({ available: false, reason: expect.stringMatching(/the in-page runner is not built .*tagi-browser\.js is missing.*pnpm --filter @tagi\/playground build/) });
    const none = await get(`/api/in-page?dir=${encodeURIComponent(path.join(root, 'no-hypernet'))}`);
    expect(none.status).toBe(403); // its tokenizer.json points out of the root: refused before anything else
    fs.rmSync(path.join(root, 'no-hypernet', 'base-model', 'tokenizer.json'));
    const plain = await get(`/api/in-page?dir=${encodeURIComponent(path.join(root, 'no-hypernet'))}`);
    expect(plain.body).toEqual({ available: false, reason: 'TAGI: no hypernet checkpoint (hypernet_config.json) in this dir' });
  });

  it('gives the page URLs that serve exactly the checkpoint files the server loads', async () => {
    fs.writeFileSync(path.join(webDir, 'tagi-browser.js'), 'export {};\n');
    const { body } = await get(`/api/in-page?dir=${encodeURIComponent(run)}`);
    expect(body.available).toBe(true);
    expect(body.limits).toEqual({ maxInputTokens: 512, maxNewTokens: 4 });
    expect(body.base.vocab).toBeNull();
    const expected: [string, string][] = [
      [body.base.config, path.join(run, 'base-model', 'config.json')],
      [body.base.weights, path.join(run, 'base-model', 'model.safetensors')],
      [body.hypernet.config, path.join(run, 'hypernet', 'hypernet_config.json')],
      [body.hypernet.weights, path.join(run, 'hypernet', 'hypernet.safetensors')],
    ];
    for (const [url, file] of expected) {
      const res = await fetch(new URL(url, app.url));
      expect(res.status, url).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(fs.readFileSync(file)), url).toBe(true);
    }
    // the synthetic base has no tokenizer.json: the server's built-in T5 tokenizer, as the engine uses
    expect(body.base.tokenizer).toBe('/t5-tokenizer/tokenizer.json');
    const tok = await fetch(new URL(body.base.tokenizer, app.url));
    expect(tok.status).toBe(200);
    expect(((await tok.json()) as Json).model.type).toBe('Unigram');
    const bundle = await fetch(new URL(body.bundle, app.url));
    expect([bundle.status, await bundle.text()]).toEqual([200, 'export {};\n']);
    const wasm = await fetch(new URL(`${body.wasmPath}tfjs-backend-wasm-simd.wasm`, app.url));
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(Buffer.from(await wasm.arrayBuffer()).subarray(0, 4).toString('latin1')).toBe('\0asm');
  });

  it('serves model files by name only, never a file symlinked out of the roots', async () => {
    const enc = encodeURIComponent;
    expect((await get(`/api/file?dir=${enc(run)}&name=metrics.jsonl`)).body.error.message).toMatch(/^name: expected one of config\.json, model\.safetensors/);
    expect((await get(`/api/file?dir=${enc(run)}&name=${enc('../secret.json')}`)).status).toBe(404);
    expect((await get(`/api/file?dir=${enc(tmp)}&name=config.json`)).status).toBe(403);
    fs.symlinkSync(path.join(tmp, 'outside.json'), path.join(run, 'tokenizer_config.json'));
    try {
      const r = await get(`/api/file?dir=${enc(run)}&name=tokenizer_config.json`);
      expect(r.status).toBe(403);
      expect(r.body.error.message).toMatch(/symlink to a file outside the playground roots/);
    } finally {
      fs.rmSync(path.join(run, 'tokenizer_config.json'));
    }
  });

  it('returns TAGI logits as float32 with their shape, and refuses rows that do not fit', async () => {
    const instruction = 'Say hi.';
    const adapter = await post('/api/generate', { dir: run, instruction });
    const inputs = ['hello'];
    const ran = await post('/api/run', { dir: run, instruction, inputs, adapterId: adapter.body.id });
    const tokens = ran.body.results[0].tokens as number[][];
    const r = await post('/api/logits', { dir: run, instruction, inputs, adapterId: adapter.body.id, decoderIds: tokens });
    expect(r.status).toBe(200);
    const shape = (r.res.headers.get('x-tagi-shape') ?? '').split(',').map(Number);
    expect(shape).toEqual([1, tokens[0]!.length, 32128]);
    expect((await r.res.arrayBuffer()).byteLength).toBe(4 * shape.reduce((a, x) => a * x, 1));
    const long = await post('/api/logits', { dir: run, instruction, inputs, adapterId: adapter.body.id, decoderIds: [new Array(6).fill(0)] });
    expect([long.status, long.body.error.message]).toEqual([400, 'decoderIds: expected 1 rows (one per input) of 1 to 5 token ids']);
  });
});
