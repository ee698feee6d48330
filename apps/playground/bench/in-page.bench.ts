// Benchmark: TAGI in the Node server vs TAGI in a Chromium page (tfjs wasm in both), same run dir, same
// instruction and inputs. Prints medians over interleaved repetitions and the load average, which on a
// shared machine moves every figure. Usage (Debian's Chromium needed):
//   pnpm --filter @tagi/playground bench                       # a synthetic run (random tiny weights)
//   TAGI_PLAYGROUND_RUN=<run dir> pnpm --filter @tagi/playground bench   # e.g. a `tagi demo` run
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildInPageBundle, hasChromium, launchChromium } from '../test/chromium';
import { spawnServer } from '../test/spawn-server';
import { writeSyntheticRun } from '../test/synthetic-run';

const REPEATS = Number(process.env.TAGI_BENCH_REPEATS ?? 5);
const instruction = 'Definition: Output the fifth word of the input.';
const inputs = ['window train gold dog rabbit mouse orange big blue', 'queen closed early five short six mouse yellow orange', 'ball eight woman late brother play juice', 'red cat'];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const load = (): string => os.loadavg().map((x) => x.toFixed(2)).join(', ');

async function post<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function main(): Promise<void> {
  if (!hasChromium) {
    process.stdout.write('skipped: no /usr/bin/chromium (apt-get install -y chromium)\n');
    return;
  }
  const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-pg-bench-')));
  const given = process.env.TAGI_PLAYGROUND_RUN;
  const run = given ? fs.realpathSync(given) : path.join(tmp, 'runs', 'synthetic');
  if (!given) await writeSyntheticRun(run);
  buildInPageBundle();
  const server = await spawnServer(['--root', path.dirname(run), '--backend', 'wasm', '--max-new-tokens', '8']);
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    process.stdout.write(`run: ${run}\nload average at start: ${load()}\n`);
    await page.goto(`${server.url}in-page.html?dir=${encodeURIComponent(run)}`);
    await page.waitForSelector('body[data-ready="1"]');
    const status = await page.textContent('#status');
    if (!(await page.isHidden('#error'))) throw new Error(`in-page: ${await page.textContent('#error')}`);
    process.stdout.write(`in-page load: ${status}\n`);
    const t = { serverGen: [] as number[], serverRun: [] as number[], pageGen: [] as number[], pageRun: [] as number[] };
    for (let i = 0; i <= REPEATS; i++) {
      // a fresh instruction each time, with different ids (the page reuses the adapter of identical ids,
      // and a pruned vocabulary maps unknown words to one id: so words of the instruction itself), so each
      // repetition generates its adapter on both sides
      const instr = `${instruction}${' Output the word.'.repeat(i)}`;
      const a = await post<{ id: string; generateMs: number }>(`${server.url}api/generate`, { dir: run, instruction: instr });
      const r = await post<{ results: { model: string; ms: number; tokens: number[][] }[] }>(`${server.url}api/run`, { dir: run, instruction: instr, inputs, adapterId: a.id });
      const tagi = r.results.find((x) => x.model === 'tagi')!;
      const p = await page.evaluate(
        async ({ instr, inputs }) => {
          const { runner } = (window as unknown as { tagiInPage: { runner: { run(i: string, x: string[]): Promise<{ ms: number; generateMs: number; tokens: number[][] }> } } }).tagiInPage;
          return runner.run(instr, inputs);
        },
        { instr, inputs },
      );
      if (JSON.stringify(p.tokens) !== JSON.stringify(tagi.tokens)) throw new Error(`repetition ${i}: the page's tokens differ from the server's`);
      if (i === 0) continue; // warm-up: kernels compiled, caches filled
      t.serverGen.push(a.generateMs);
      t.serverRun.push(tagi.ms);
      t.pageGen.push(p.generateMs);
      t.pageRun.push(p.ms);
    }
    const row = (what: string, s: number[], b: number[]): string => `| ${what} | ${median(s).toFixed(0)} | ${median(b).toFixed(0)} | ${(median(b) / median(s)).toFixed(2)} |\n`;
    process.stdout.write(`\nmedians of ${REPEATS} interleaved repetitions after one warm-up (ms); identical greedy tokens every time\n\n`);
    process.stdout.write('| step | Node server (wasm) | Chromium page (wasm) | page / server |\n|---|---|---|---|\n');
    process.stdout.write(row('generate the adapter (once per instruction)', t.serverGen, t.pageGen));
    process.stdout.write(row(`run ${inputs.length} inputs, 8 new tokens each`, t.serverRun, t.pageRun));
    process.stdout.write(`\nload average at end: ${load()} (${os.cpus().length} cores)\n`);
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
