// Routes of the HTTP layer in-process (a real server on 127.0.0.1) over a synthetic run: scored runs,
// suite tasks formatted with the run's prompt settings, long instructions cut with a warning, what the
// in-page runner is told to fetch, the model-file route's confinement, the logits route, the export zip.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { embeddedSuite, prepareInstruction } from '@tagi/datasets';
import { exactMatch, rougeL } from '@tagi/eval';
import { DEFAULT_TOKENIZER_DIR, loadT5Tokenizer } from '@tagi/t5-model/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDoneRunState, writeSyntheticRun } from '../test/synthetic-run';
import { type RunningPlayground, startPlayground } from './app';
import { TagiEngine } from './engine';
import { checkDirFilesUnderRoots, realFileUnderRoots, resolveRoots, resolveUnderRoots } from './paths';
import { readZip } from './zip';

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
    const res = await fetch(`${app.url}${p.replace(/^\//, '')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
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
    await writeDoneRunState(path.join(root, 'no-hypernet'), [{ role: 'base-model', kind: 't5', path: 'base-model' }]);
    fs.writeFileSync(path.join(tmp, 'outside.json'), '{"secret": true}');
    fs.symlinkSync(path.join(tmp, 'outside.json'), path.join(root, 'no-hypernet', 'base-model', 'tokenizer.json'));
    webDir = path.join(tmp, 'web');
    fs.mkdirSync(webDir);
    const { roots } = resolveRoots([root]);
    engine = new TagiEngine({
      backend: 'cpu',
      maxNewTokens: 4,
      checkDir: (d) => checkDirFilesUnderRoots(roots, d),
      resolveFile: (f) => realFileUnderRoots(roots, f),
      resolveDir: (d) => resolveUnderRoots(roots, d),
    });
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
    expect(noScores.body.warnings).toEqual([]);
  });

  it("prepares a suite example from its task, with the run's demonstrations, while its text is unchanged", async () => {
    const { body } = await get(`/api/examples?dir=${encodeURIComponent(run)}`);
    expect(body.numPositive).toBe(1); // the synthetic run's config.json
    const ex = body.examples[0] as Json;
    const task = embeddedSuite().tasks.find((t) => t.taskId === ex.task)!;
    const tok = loadT5Tokenizer(DEFAULT_TOKENIZER_DIR);
    const asTrained = prepareInstruction(task, { numPositive: 1 }, { encoder: tok, maxInstructionTokens: 128, maxSourceTokens: 512 });
    expect(ex.instruction).toBe(asTrained.instruction);
    expect(ex.instruction).toMatch(/Positive Example 1/);
    expect(ex.source).toEqual({
      taskId: task.taskId,
      definition: [task.definition[0]],
      positiveExamples: task.positiveExamples.slice(0, 1),
      negativeExamples: [],
    });
    const fromTask = await post('/api/generate', { dir: run, instruction: ex.instruction, task: ex.task });
    expect(fromTask.status).toBe(200);
    expect(fromTask.body.task).toBe(ex.task);
    expect(fromTask.body.instructionIds).toEqual([...asTrained.instructionIds!]);
    const ran = await post('/api/run', { dir: run, instruction: ex.instruction, task: ex.task, inputs: ex.inputs, adapterId: fromTask.body.id });
    expect(ran.status).toBe(200);
    // the adapter of the task is not the adapter of the same text typed with a changed letter
    const edited = `${ex.instruction} `;
    const typed = await post('/api/generate', { dir: run, instruction: edited, task: ex.task });
    expect(typed.body.task).toBeUndefined();
    expect(typed.body.instructionIds).toEqual([...prepareInstruction(edited, {}, { encoder: tok, maxInstructionTokens: 128 }).instructionIds!]);
    const mismatch = await post('/api/run', { dir: run, instruction: ex.instruction, task: ex.task, inputs: ex.inputs, adapterId: typed.body.id });
    expect([mismatch.status, mismatch.body.error.type]).toEqual([409, 'AdapterMismatch']);
    const unknown = await post('/api/generate', { dir: run, instruction: 'x', task: 'no-such-task' });
    expect([unknown.status, unknown.body.error.message]).toEqual([400, 'task: no task "no-such-task" in the embedded suite']);
  });

  it('cuts an instruction longer than the hypernetwork reads, with a warning in the answer (no 413 below the body limit)', async () => {
    const long = `Repeat the input. ${'Then repeat it again. '.repeat(2000)}`; // ≈ 46 KB, ≈ 12k tokens
    const g = await post('/api/generate', { dir: run, instruction: long });
    expect(g.status).toBe(200);
    expect(g.body.instructionTokens).toBe(128); // the synthetic hypernet's max_instruction_length
    expect(g.body.warnings).toEqual([
      expect.stringMatching(
        /^the instruction \(what the hypernetwork reads\): \d{4,} tokens, more than the 128 the run allows; \d+ tokens cut from the end of the definition \(eos kept\)/,
      ),
    ]);
    const r = await post('/api/run', { dir: run, instruction: long, inputs: ['hello'], adapterId: g.body.id });
    expect(r.status).toBe(200);
    expect(r.body.warnings[0]).toBe(g.body.warnings[0]);
    // the concatenated prompt is cut too (to the input budget), its input kept whole
    expect(r.body.warnings[1]).toMatch(
      /^the instruction \+ input 1 prompt .*more than the 512 the run allows; \d+ tokens cut from the end of the definition \(eos kept\)/,
    );
    const tooBig = await post('/api/generate', { dir: run, instruction: 'x'.repeat(70 * 1024) });
    expect([tooBig.status, tooBig.body.error.type]).toEqual([413, 'BodyTooLarge']);
  });

  it("lists the run's artefacts by role and its results for the Training page", async () => {
    const { body } = await get(`/api/run?dir=${encodeURIComponent(run)}`);
    expect(body.artifacts.map((a: Json) => [a.role, a.kind, a.display])).toEqual([
      ['base-model', 't5', 'runs/synthetic/base-model'],
      ['multitask-adapter', 'peft', 'runs/synthetic/multitask-lora'],
      ['hypernet-tagi', 'hypernet', 'runs/synthetic/hypernet'],
    ]);
    expect(body.resultsView).toEqual({ kind: 'rows', rows: body.results.rows, at: 'rows' });
  });

  it('exports the files `tagi generate` writes, in one folder of a zip', async () => {
    const g = await post('/api/generate', { dir: run, instruction: 'Say hi.' });
    const res = await fetch(`${app.url}api/export?adapter=${g.body.id}`);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="tagi-adapter-${g.body.id}.zip"`);
    const entries = readZip(new Uint8Array(await res.arrayBuffer()));
    expect(entries.map((e) => e.name)).toEqual(
      ['adapter_config.json', 'adapter_model.safetensors', 'tagi_adapter.json', 'tagi_fusion.safetensors'].map((n) => `tagi-adapter-${g.body.id}/${n}`),
    );
    const meta = JSON.parse(new TextDecoder().decode(entries[2]!.data));
    expect(meta).toMatchObject({ instruction: 'Say hi.', instruction_ids: g.body.instructionIds, fusion: g.body.fusion, peft_reproduces_tagi: false });
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
    expect(missing.body).toEqual({
      available: false,
      reason: expect.stringMatching(/the in-page runner is not built .*tagi-browser\.js is missing.*pnpm --filter @tagi\/playground build/),
    });
    const none = await get(`/api/in-page?dir=${encodeURIComponent(path.join(root, 'no-hypernet'))}`);
    expect(none.status).toBe(403); // its tokenizer.json points out of the root: refused before anything else
    fs.rmSync(path.join(root, 'no-hypernet', 'base-model', 'tokenizer.json'));
    const plain = await get(`/api/in-page?dir=${encodeURIComponent(path.join(root, 'no-hypernet'))}`);
    expect(plain.body).toEqual({
      available: false,
      reason: "TAGI: no hypernetwork in this run (no artefact with role 'hypernet-tagi', 'hypernet-hint', 'hypernet-pretrained' in trainer_state.json)",
    });
  });

  it('gives the page URLs that serve exactly the checkpoint files the server loads', async () => {
    fs.writeFileSync(path.join(webDir, 'tagi-browser.js'), 'export {};\n');
    const { body } = await get(`/api/in-page?dir=${encodeURIComponent(run)}`);
    expect(body.available).toBe(true);
    expect(body.limits).toEqual({ maxNewTokens: 4 });
    // the run's prompt settings: the page prepares instructions with them, as the server does
    expect(body.prompt).toEqual({ numPositive: 1, maxSourceTokens: 512, maxInstructionTokens: 128, from: 'config.json' });
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
    expect(
      Buffer.from(await wasm.arrayBuffer())
        .subarray(0, 4)
        .toString('latin1'),
    ).toBe('\0asm');
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
