// TAGI inside a web page (issue 18 part 3): Chromium fetches a tiny T5 + hypernet from the playground
// server, generates the adapter of an instruction and runs the model with it on tfjs's wasm backend in
// the page. Its greedy tokens must equal the Node server's and its logits must match them within float
// tolerance, for the same inputs. Heavy on a shared machine: one browser, one small run, few tokens.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { exactMatch, rougeL } from '@tagi/eval';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInPageBundle, hasChromium, launchChromium, shot } from './chromium';
import { type SpawnedServer, spawnServer } from './spawn-server';
import { writeSyntheticRun } from './synthetic-run';

async function postJson<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

interface RunResult {
  model: string;
  outputs: string[];
  tokens: number[][];
}

describe.skipIf(!hasChromium)('TAGI in the page (Chromium, tfjs wasm) against the Node server', () => {
  let tmp: string;
  let run: string;
  let server: SpawnedServer;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const instruction = 'Write the word backwards.';
  const inputs = ['apple', 'a much longer input sentence with several words', 'b'];

  beforeAll(async () => {
    buildInPageBundle();
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-pg-inpage-')));
    run = path.join(tmp, 'runs', 'synthetic');
    await writeSyntheticRun(run);
    // the server on wasm too: the page and the server then differ only in where the kernels run
    server = await spawnServer(['--root', path.dirname(run), '--backend', 'wasm', '--max-new-tokens', '6']);
    browser = await launchChromium();
    page = await browser.context.newPage();
  }, 10 * 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('generates the adapter in the page; greedy tokens equal the server, logits within float tolerance', async () => {
    const adapter = await postJson<{ id: string }>(`${server.url}api/generate`, { dir: run, instruction });
    const served = (await postJson<{ results: RunResult[] }>(`${server.url}api/run`, { dir: run, instruction, inputs, adapterId: adapter.id })).results.find(
      (r) => r.model === 'tagi',
    )!;
    expect(served.tokens).toHaveLength(inputs.length);

    await page.goto(`${server.url}in-page.html?dir=${encodeURIComponent(run)}`);
    await page.waitForSelector('body[data-ready="1"]');
    expect(await page.isHidden('#error'), (await page.textContent('#error')) ?? '').toBe(true);
    expect(await page.textContent('#status')).toMatch(/fetched \d+\.\d MB and built the models in \d+ ms \(tfjs backend: wasm\)/);
    await page.fill('#instruction', instruction);
    await page.fill('#inputs', inputs.join('\n'));
    await page.click('#run');
    await page.waitForSelector('body[data-runs="1"]');
    expect(await page.isHidden('#error'), (await page.textContent('#error')) ?? '').toBe(true);
    const pageTokens = (await page.locator('td.tokens').allTextContents()).map((t) => JSON.parse(t) as number[]);
    const pageOutputs = await page.locator('td.output').allTextContents();
    expect(pageTokens).toEqual(served.tokens);
    expect(pageOutputs).toEqual(served.outputs);
    expect(await page.textContent('#timing')).toMatch(/adapter generated in \d+ ms; 3 inputs run in \d+ ms, in this page/);
    await shot(page, 'in-page');

    // logits along the greedy tokens, computed in the page and fetched from the server, compared in the page
    const cmp = await page.evaluate(
      async ({ dir, instruction, inputs, adapterId, decoderIds }) => {
        const { runner } = (
          window as unknown as { tagiInPage: { runner: { logits(i: string, x: string[], d: number[][]): Promise<{ data: Float32Array; shape: number[] }> } } }
        ).tagiInPage;
        const own = await runner.logits(instruction, inputs, decoderIds);
        const res = await fetch('/api/logits', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ dir, instruction, inputs, adapterId, decoderIds }),
        });
        const shape = (res.headers.get('x-tagi-shape') ?? '').split(',').map(Number);
        const server = new Float32Array(await res.arrayBuffer());
        let maxDiff = 0;
        let maxAbs = 0;
        for (let i = 0; i < server.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(server[i]! - own.data[i]!));
          maxAbs = Math.max(maxAbs, Math.abs(server[i]!));
        }
        // greedy decoding chose, at every generated step, the argmax of these logits
        const [b, t, v] = own.shape as [number, number, number];
        const argmaxAgrees: boolean[] = [];
        for (let r = 0; r < b; r++) {
          for (let s = 0; s + 1 < decoderIds[r]!.length; s++) {
            let best = 0;
            for (let k = 1; k < v; k++) if (own.data[(r * t + s) * v + k]! > own.data[(r * t + s) * v + best]!) best = k;
            argmaxAgrees.push(best === decoderIds[r]![s + 1]);
          }
        }
        return { status: res.status, shape, ownShape: own.shape, length: server.length, maxDiff, maxAbs, argmaxAgrees };
      },
      { dir: run, instruction, inputs, adapterId: adapter.id, decoderIds: served.tokens },
    );
    expect(cmp.status).toBe(200);
    expect(cmp.ownShape).toEqual(cmp.shape);
    expect(cmp.shape[0]).toBe(inputs.length);
    expect(cmp.length).toBe(cmp.shape.reduce((a, x) => a * x, 1));
    // float32 kernels of the same wasm binary in two hosts: agreement to a few ulps of the logits' scale
    expect(cmp.maxDiff).toBeLessThanOrEqual(1e-5 * Math.max(1, cmp.maxAbs));
    expect(cmp.argmaxAgrees.length).toBeGreaterThan(0);
    expect(cmp.argmaxAgrees.every(Boolean)).toBe(true);
    console.log(`in-page vs server logits: shape [${cmp.shape.join(', ')}], max |diff| ${cmp.maxDiff.toExponential(2)} (max |logit| ${cmp.maxAbs.toFixed(3)})`);

    // the page prepares instructions as the server does (the same instruction.ts, the run's prompt settings
    // sent by /api/in-page): a suite task with the run's demonstrations, and an over-long text cut the same way
    const ex = (
      (await (await fetch(`${server.url}api/examples?dir=${encodeURIComponent(run)}`)).json()) as {
        examples: { task: string; instruction: string; source: unknown }[];
      }
    ).examples[0]!;
    const long = `Repeat the input. ${'Then repeat it again. '.repeat(200)}`;
    const fromServer = await Promise.all([
      postJson<{ instructionIds: number[]; task?: string; warnings: string[] }>(`${server.url}api/generate`, {
        dir: run,
        instruction: ex.instruction,
        task: ex.task,
      }),
      postJson<{ instructionIds: number[]; warnings: string[] }>(`${server.url}api/generate`, { dir: run, instruction: long }),
    ]);
    expect(fromServer[0].task).toBe(ex.task);
    const inPage = await page.evaluate(
      ({ ex, long }) => {
        const { runner } = (
          window as unknown as { tagiInPage: { runner: { prepare(s: unknown): { instructionIds: number[]; prepared: { origin: string } } } } }
        ).tagiInPage;
        const task = runner.prepare({ instruction: ex.instruction, task: ex.source });
        return { task: task.instructionIds, origin: task.prepared.origin, long: runner.prepare(long).instructionIds };
      },
      { ex, long },
    );
    expect(inPage.origin).toBe('task');
    expect(inPage.task).toEqual(fromServer[0].instructionIds);
    expect(inPage.long).toEqual(fromServer[1].instructionIds);
    expect(fromServer[1].warnings).toHaveLength(1);
  });

  it('the Try page runs TAGI in this browser beside the server, with both times and right/wrong marks', async () => {
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="1"]');
    await page.selectOption('#example-select', { index: 1 });
    await page.check('#in-page');
    await page.click('#run');
    await page.waitForSelector('th[data-model="tagi-page"]');
    expect(await page.isHidden('#error'), (await page.textContent('#error')) ?? '').toBe(true);
    expect(await page.textContent('th[data-model="tagi"] .time')).toMatch(/^\d+ ms \(\+ \d+ ms once for the adapter\) in the Node server$/);
    expect(await page.textContent('th[data-model="tagi-page"] .time')).toMatch(
      /^\d+ ms \(\+ \d+ ms for the adapter\) in this browser · same tokens as the server$/,
    );
    expect(await page.textContent('#in-page-status')).toMatch(/loaded \d+\.\d MB and built the models in \d+ ms \(tfjs backend: wasm\)/);
    const servedAnswers = await page.locator('td.output[data-model="tagi"] .answer').allTextContents();
    const inPage = await page.locator('td.output[data-model="tagi-page"] .answer').allTextContents();
    expect(inPage).toEqual(servedAnswers);
    // the in-page answers are scored in the page with the same metrics as the server's
    const scores = await page
      .locator('td.output[data-model="tagi-page"] .score')
      .evaluateAll((els) => els.map((e) => [Number(e.getAttribute('data-em')), Number(e.getAttribute('data-rouge'))]));
    const expected = await page.locator('td.expected').allTextContents();
    expect(scores).toHaveLength(inPage.length);
    inPage.forEach((out, i) => {
      const refs = expected[i]!.split(' | ');
      expect(scores[i]).toEqual([exactMatch(out, refs), Number(rougeL(out, refs).toFixed(2))]);
    });
    await shot(page, 'try-in-page');
  });
});
