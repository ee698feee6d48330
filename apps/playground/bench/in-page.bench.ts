// Benchmark: TAGI in the Node server vs TAGI in a Chromium page (tfjs wasm in both), same run dir, same
// instruction and inputs; in the page once with every core the browser offers (the threaded SIMD build,
// the page being cross-origin isolated) and once with one thread (`in-page.html?threads=1`, the same
// binary). Prints whether the page is isolated, its thread counts, medians over interleaved repetitions and
// the load average, which on a shared machine moves every figure. Usage (Debian's Chromium needed):
//   pnpm --filter @tagi/playground bench                          # a synthetic run, tiny random weights
//   TAGI_BENCH_SHAPE=small pnpm --filter @tagi/playground bench   # a synthetic run at the t5-small-lm-adapt shape
//   TAGI_PLAYGROUND_RUN=<run dir> pnpm --filter @tagi/playground bench   # e.g. a `tagi demo` run
//   … bench -- --json                                             # the figures as one JSON object
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { buildInPageBundle, hasChromium, launchChromium } from '../test/chromium';
import { spawnServer } from '../test/spawn-server';
import { T5_SMALL_SHAPE, writeSyntheticRun } from '../test/synthetic-run';

const REPEATS = Number(process.env.TAGI_BENCH_REPEATS ?? 5);
const SHAPE = process.env.TAGI_BENCH_SHAPE ?? 'tiny';
const NEW_TOKENS = 8;
const json = process.argv.includes('--json');
const instruction = 'Definition: Output the fifth word of the input.';
const inputs = [
  'window train gold dog rabbit mouse orange big blue',
  'queen closed early five short six mouse yellow orange',
  'ball eight woman late brother play juice',
  'red cat',
];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const loadavg = (): number[] => os.loadavg().map((x) => Number(x.toFixed(2)));
const say = (line: string): void => {
  if (!json) process.stdout.write(`${line}\n`);
};

async function post<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

interface PageRun {
  ms: number;
  generateMs: number;
  tokens: number[][];
  /** One teacher-forced forward along the greedy tokens (the adapter cached). */
  forwardMs: number;
}

/** A page with the run's TAGI loaded by the standalone in-page runner, `threads` threads (undefined: every core). */
async function openRunner(
  page: Page,
  base: string,
  run: string,
  threads?: number,
): Promise<{ isolated: boolean; cores: number; threads: number; status: string }> {
  await page.goto(`${base}in-page.html?dir=${encodeURIComponent(run)}${threads === undefined ? '' : `&threads=${threads}`}`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 10 * 60_000 });
  if (!(await page.isHidden('#error'))) throw new Error(`in-page: ${await page.textContent('#error')}`);
  return page.evaluate(() => ({
    isolated: crossOriginIsolated,
    cores: navigator.hardwareConcurrency,
    threads: (window as unknown as { tagiInPage: { runner: { threads: number } } }).tagiInPage.runner.threads,
    status: document.getElementById('status')?.textContent ?? '',
  }));
}

/**
 * Generates the adapter and decodes greedily in the page, then one teacher-forced forward along the
 * greedy tokens (`runner.logits`: a few large products instead of many small steps, to tell the size of
 * the ops from the number of them).
 */
async function runInPage(page: Page, instr: string): Promise<PageRun> {
  await page.bringToFront(); // the page that runs is the visible one (a background tab may be given less)
  return page.evaluate(
    async ({ instr, inputs }) => {
      const { runner } = (
        window as unknown as {
          tagiInPage: {
            runner: { run(i: string, x: string[]): Promise<PageRun>; logits(i: string, x: string[], d: number[][]): Promise<{ shape: number[] }> };
          };
        }
      ).tagiInPage;
      const r = await runner.run(instr, inputs);
      const start = performance.now();
      await runner.logits(instr, inputs, r.tokens);
      return { ms: r.ms, generateMs: r.generateMs, tokens: r.tokens, forwardMs: performance.now() - start };
    },
    { instr, inputs },
  );
}

async function main(): Promise<void> {
  if (!hasChromium) {
    process.stdout.write('skipped: no /usr/bin/chromium (apt-get install -y chromium)\n');
    return;
  }
  const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-pg-bench-')));
  const given = process.env.TAGI_PLAYGROUND_RUN;
  const run = given ? fs.realpathSync(given) : path.join(tmp, 'runs', `synthetic-${SHAPE}`);
  if (!given) {
    if (SHAPE !== 'tiny' && SHAPE !== 'small') throw new Error(`TAGI_BENCH_SHAPE: expected tiny or small, got ${JSON.stringify(SHAPE)}`);
    await writeSyntheticRun(run, SHAPE === 'small' ? T5_SMALL_SHAPE : {});
  }
  buildInPageBundle();
  const server = await spawnServer(['--root', path.dirname(run), '--backend', 'wasm', '--max-new-tokens', String(NEW_TOKENS)], { timeoutMs: 5 * 60_000 });
  const browser = await launchChromium();
  const loadAtStart = loadavg();
  const loads: number[] = [];
  try {
    say(
      `run: ${run}${given ? '' : ` (synthetic, ${SHAPE} shape, random weights)`}\nload average at start: ${loadAtStart.join(', ')} (${os.cpus().length} cores, shared with other engineers' processes)`,
    );
    // two pages side by side, the same binary: every core, and one thread
    const pageAll = await browser.context.newPage();
    const pageOne = await browser.context.newPage();
    const all = await openRunner(pageAll, server.url, run);
    const one = await openRunner(pageOne, server.url, run, 1);
    say(
      `page: crossOriginIsolated ${all.isolated}, navigator.hardwareConcurrency ${all.cores}; wasm threads ${all.threads} (default) and ${one.threads} (?threads=1)`,
    );
    say(`in-page load, ${all.threads} threads: ${all.status}\nin-page load, 1 thread: ${one.status}`);
    const t = {
      serverGen: [] as number[],
      serverRun: [] as number[],
      oneGen: [] as number[],
      oneRun: [] as number[],
      oneFwd: [] as number[],
      allGen: [] as number[],
      allRun: [] as number[],
      allFwd: [] as number[],
    };
    for (let i = 0; i <= REPEATS; i++) {
      // a fresh instruction each time, with different ids (the page reuses the adapter of identical ids,
      // and a pruned vocabulary maps unknown words to one id: so words of the instruction itself), so each
      // repetition generates its adapter on every side
      const instr = `${instruction}${' Output the word.'.repeat(i)}`;
      const a = await post<{ id: string; generateMs: number }>(`${server.url}api/generate`, { dir: run, instruction: instr });
      const r = await post<{ results: { model: string; ms: number; tokens: number[][] }[] }>(`${server.url}api/run`, {
        dir: run,
        instruction: instr,
        inputs,
        adapterId: a.id,
      });
      const tagi = r.results.find((x) => x.model === 'tagi')!;
      // alternate which page goes first, so neither always runs right after the server
      let pOne: PageRun;
      let pAll: PageRun;
      if (i % 2 === 0) {
        pOne = await runInPage(pageOne, instr);
        pAll = await runInPage(pageAll, instr);
      } else {
        pAll = await runInPage(pageAll, instr);
        pOne = await runInPage(pageOne, instr);
      }
      for (const [name, p] of [
        ['1 thread', pOne],
        [`${all.threads} threads`, pAll],
      ] as const) {
        if (JSON.stringify(p.tokens) !== JSON.stringify(tagi.tokens)) throw new Error(`repetition ${i}: the page's tokens (${name}) differ from the server's`);
      }
      loads.push(os.loadavg()[0]!);
      if (i === 0) continue; // warm-up: kernels compiled, caches filled
      t.serverGen.push(a.generateMs);
      t.serverRun.push(tagi.ms);
      t.oneGen.push(pOne.generateMs);
      t.oneRun.push(pOne.ms);
      t.oneFwd.push(pOne.forwardMs);
      t.allFwd.push(pAll.forwardMs);
      t.allGen.push(pAll.generateMs);
      t.allRun.push(pAll.ms);
    }
    const loadAtEnd = loadavg();
    const figures = {
      run: given ? run : `synthetic ${SHAPE}`,
      crossOriginIsolated: all.isolated,
      hardwareConcurrency: all.cores,
      threads: all.threads,
      repeats: REPEATS,
      inputs: inputs.length,
      newTokens: NEW_TOKENS,
      medianMs: {
        generate: { server: median(t.serverGen), page1: median(t.oneGen), pageN: median(t.allGen) },
        decode: { server: median(t.serverRun), page1: median(t.oneRun), pageN: median(t.allRun) },
        forward: { page1: median(t.oneFwd), pageN: median(t.allFwd) },
      },
      speedupThreads: {
        generate: median(t.oneGen) / median(t.allGen),
        decode: median(t.oneRun) / median(t.allRun),
        forward: median(t.oneFwd) / median(t.allFwd),
      },
      loadAverage: { start: loadAtStart, end: loadAtEnd, oneMinuteDuring: { min: Math.min(...loads), max: Math.max(...loads) } },
      cores: os.cpus().length,
    };
    if (json) {
      process.stdout.write(`${JSON.stringify(figures)}\n`);
      return;
    }
    const n = all.threads;
    const row = (what: string, s: number[], p1: number[], pn: number[]): string =>
      `| ${what} | ${median(s).toFixed(0)} | ${median(p1).toFixed(0)} | ${median(pn).toFixed(0)} | ×${(median(p1) / median(pn)).toFixed(2)} | ${(median(p1) / median(s)).toFixed(2)} |`;
    say(`\nmedians of ${REPEATS} interleaved repetitions after one warm-up (ms); identical greedy tokens every time, on every side\n`);
    say(
      `| step | Node server (wasm, 1 thread) | page, 1 thread | page, ${n} threads | speed-up ${n} threads / 1 | page 1 thread / server |\n|---|---|---|---|---|---|`,
    );
    say(row('generate the adapter (once per instruction)', t.serverGen, t.oneGen, t.allGen));
    say(row(`decode ${inputs.length} inputs, ${NEW_TOKENS} new tokens each`, t.serverRun, t.oneRun, t.allRun));
    say(
      `| one teacher-forced forward along those tokens (page only) | — | ${median(t.oneFwd).toFixed(0)} | ${median(t.allFwd).toFixed(0)} | ×${(median(t.oneFwd) / median(t.allFwd)).toFixed(2)} | — |`,
    );
    say(
      `\nload average at end: ${loadAtEnd.join(', ')}; 1-minute load during the repetitions ${figures.loadAverage.oneMinuteDuring.min.toFixed(2)}–${figures.loadAverage.oneMinuteDuring.max.toFixed(2)} on ${os.cpus().length} cores shared with other engineers' processes: threads compete with them, so the speed-up is a loaded machine's`,
    );
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
