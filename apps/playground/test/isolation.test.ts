// Cross-origin isolation (issue 26 item 5): every response carries COOP same-origin, COEP require-corp and
// CORP same-origin, so the page is `crossOriginIsolated` and tfjs's wasm backend runs its threaded SIMD
// build with every core the browser offers. Checked on the wire (Node fetch) and in Debian's Chromium:
// the page is isolated, fetches the threaded binary, starts the wasm backend with navigator.hardwareConcurrency
// threads (at most tfjs's 8; or the `?threads=N` asked for), and a threaded run gives the one-thread run's tokens exactly.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInPageBundle, hasChromium, launchChromium } from './chromium';
import { type SpawnedServer, spawnServer } from './spawn-server';
import { writeSyntheticRun } from './synthetic-run';

const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

interface PageRuntime {
  isolated: boolean;
  cores: number;
  threads: number;
  status: string;
  tokens: number[][];
}

/** Opens the standalone in-page runner (`?threads=` when given) and runs one instruction in it. */
async function runInPage(page: Page, base: string, run: string, threads?: number): Promise<PageRuntime> {
  await page.goto(`${base}in-page.html?dir=${encodeURIComponent(run)}${threads === undefined ? '' : `&threads=${threads}`}`);
  await page.waitForSelector('body[data-ready="1"]');
  expect(await page.isHidden('#error'), (await page.textContent('#error')) ?? '').toBe(true);
  return page.evaluate(async () => {
    const handle = (window as unknown as { tagiInPage: { runner: { threads: number; run(i: string, x: string[]): Promise<{ tokens: number[][] }> } } })
      .tagiInPage;
    const { tokens } = await handle.runner.run('Write the word backwards.', ['apple', 'a longer input with several words']);
    // hardwareConcurrency read after the load: the browser's own value again (the runner reports more only while the backend starts)
    return {
      isolated: crossOriginIsolated,
      cores: navigator.hardwareConcurrency,
      threads: handle.runner.threads,
      status: document.getElementById('status')?.textContent ?? '',
      tokens,
    };
  });
}

describe('cross-origin isolation', () => {
  let tmp: string;
  let run: string;
  let server: SpawnedServer;

  beforeAll(async () => {
    if (hasChromium) buildInPageBundle();
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-pg-isolation-')));
    run = path.join(tmp, 'runs', 'synthetic');
    await writeSyntheticRun(run);
    server = await spawnServer(['--root', path.dirname(run), '--backend', 'cpu', '--max-new-tokens', '4']);
  }, 10 * 60_000);
  afterAll(async () => {
    await server?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('sends COOP, COEP and CORP with the pages, their scripts, the wasm binaries, the runner bundle, the API and errors', async () => {
    const paths = [
      '/',
      '/in-page.html',
      '/app.js',
      '/in-page.js',
      '/style.css',
      '/wasm/tfjs-backend-wasm-threaded-simd.wasm',
      '/wasm/tfjs-backend-wasm-simd.wasm',
      '/api/health',
      '/api/runs',
      '/no-such-file',
    ];
    if (hasChromium) paths.push('/web/tagi-browser.js');
    for (const p of paths) {
      const res = await fetch(new URL(p, server.url));
      await res.arrayBuffer();
      expect(res.status, p).toBe(p === '/no-such-file' ? 404 : 200);
      for (const [name, value] of Object.entries(ISOLATION)) expect(res.headers.get(name), `${p} ${name}`).toBe(value);
    }
    // the threads start as workers from blob: URLs and import the backend from another blob: the policy allows both
    const csp = (await fetch(server.url)).headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src [^;]*blob:/);
    expect(csp).toMatch(/worker-src 'self' blob:/);
  });

  describe.skipIf(!hasChromium)('in Chromium', () => {
    let browser: Awaited<ReturnType<typeof launchChromium>>;
    let page: Page;
    const wasmFetched: string[] = [];

    beforeAll(async () => {
      browser = await launchChromium();
      page = await browser.context.newPage();
      page.on('request', (r) => {
        if (r.url().endsWith('.wasm')) wasmFetched.push(new URL(r.url()).pathname);
      });
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('the playground page is crossOriginIsolated', async () => {
      await page.goto(server.url);
      await page.waitForSelector('body[data-ready="1"]');
      expect(await page.evaluate(() => ({ isolated: crossOriginIsolated, sab: typeof SharedArrayBuffer }))).toEqual({ isolated: true, sab: 'function' });
    });

    it('runs the threaded SIMD build with every core the browser offers, and with one thread when asked; the same tokens', async () => {
      const all = await runInPage(page, server.url, run);
      expect(all.isolated).toBe(true);
      expect(wasmFetched).toEqual(['/wasm/tfjs-backend-wasm-threaded-simd.wasm']);
      // every core, up to the 8 workers tfjs's threaded build has
      const expected = Math.min(all.cores, 8);
      expect(all.threads).toBe(expected);
      expect(all.status).toContain(`(tfjs backend: wasm), ${expected} thread${expected === 1 ? '' : 's'}, cross-origin isolated.`);
      const one = await runInPage(page, server.url, run, 1);
      expect(one.threads).toBe(1);
      expect(one.status).toContain('(tfjs backend: wasm), 1 thread, cross-origin isolated.');
      expect(one.tokens).toEqual(all.tokens);
    });

    it('refuses a thread count that is not a whole number ≥ 1, naming the parameter', async () => {
      await page.goto(`${server.url}in-page.html?dir=${encodeURIComponent(run)}&threads=0`);
      await page.waitForSelector('body[data-ready="1"]');
      expect(await page.textContent('#error')).toMatch(/^threads: expected a whole number ≥ 1 in the page's URL, got "0"$/);
    });
  });
});
