// Teachers on 1 vs 2 queue workers, against the single process, on this machine.
//
//   pnpm --filter @tagi/trainer bench:queue [-- --steps=60 --repeats=1 --backend=wasm]
//
// Starts its own redis-server (loopback, free port, no persistence) and `tagi worker` processes from
// source, pretrains the smoke base once, then times `tagi teachers --preset=smoke` (6 category teachers,
// --teachers.train.steps=STEPS, the multitask LoRA cut to 1 step so the teachers dominate) as: one
// process, the queue with 1 worker, the queue with 2 workers — interleaved per repetition, so a change in
// the machine's load hits all three alike. Workers are started and ready before the clock starts; each
// pays its first job's model/data load inside the timing (a real worker does too). Prints one line per
// run with the load average before and after it.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { main } from '../src/cli/main.js';
import { findRedisServer, NO_REDIS_MESSAGE, startRedis } from '../src/queue/redis-harness.js';
import { captureIO } from '../src/common/test-helpers.js';

const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const steps = Number(arg('steps', '60'));
const repeats = Number(arg('repeats', '1'));
const backend = arg('backend', 'wasm');

const appDir = path.resolve(import.meta.dirname, '..');
const tsx = pathToFileURL(path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs')).href;
/** CPU seconds (user + system) a live process has used so far, from /proc (Linux; 0 elsewhere). */
function cpuSeconds(pid: number | undefined): number {
  const file = `/proc/${pid}/stat`;
  if (pid === undefined || !existsSync(file)) return 0;
  // fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in clock ticks (100/s on Linux)
  const fields = readFileSync(file, 'utf8')
    .slice(readFileSync(file, 'utf8').lastIndexOf(')') + 2)
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

async function tagi(argv: string[]): Promise<void> {
  const io = captureIO();
  const code = await main(argv, io);
  if (code !== 0) throw new Error(`tagi ${argv.join(' ')} exited ${code}:\n${io.err()}`);
}

function startWorker(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', tsx, path.join(appDir, 'src', 'cli.ts'), 'worker', `--queue=${url}`], {
    env: { ...process.env, TSX_TSCONFIG_PATH: path.join(appDir, 'tsconfig.json') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('waiting for jobs')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited ${code} before it was ready`)));
  });
}

async function stopWorkers(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((c) => new Promise<void>((r) => (c.exitCode !== null ? r() : (c.once('exit', () => r()), c.kill('SIGTERM'))))));
}

const bin = findRedisServer();
if (bin === undefined) {
  console.log(NO_REDIS_MESSAGE);
  process.exit(0);
}
const root = mkdtempSync(path.join(os.tmpdir(), 'tagi-bench-queue-'));
const redis = await startRedis(bin);
try {
  console.log(`cpus ${os.cpus().length}, node ${process.version}, backend ${backend}, ${steps} steps per teacher, load average (1/5/15 min) ${load()}`);
  await tagi(['base', '--preset=smoke', `--backend=${backend}`, `--run-dir=${path.join(root, 'base')}`]);
  const teachers = (run: string) => [
    'teachers',
    '--preset=smoke',
    `--backend=${backend}`,
    `--teachers.train.steps=${steps}`,
    '--multitask.train.steps=1',
    `--model=${path.join(root, 'base', 'base-model')}`,
    `--run-dir=${path.join(root, run)}`,
  ];
  const rows: { mode: string; seconds: number; cpu: number }[] = [];
  for (let r = 0; r < repeats; r++) {
    for (const mode of ['single process', '1 worker', '2 workers'] as const) {
      const n = mode === 'single process' ? 0 : mode === '1 worker' ? 1 : 2;
      const children = await Promise.all(Array.from({ length: n }, () => startWorker(redis.url)));
      const before = load();
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const w0 = children.map((c) => cpuSeconds(c.pid));
      await tagi([...teachers(`${r}-${n}`), ...(n > 0 ? [`--queue=${redis.url}`] : [])]);
      const seconds = (performance.now() - t0) / 1000;
      const here = process.cpuUsage(c0);
      // CPU of this process (the single process, or the enqueuer and its local multitask step) + the workers'
      const cpu = (here.user + here.system) / 1e6 + children.reduce((s, c, i) => s + cpuSeconds(c.pid) - (w0[i] ?? 0), 0);
      await stopWorkers(children);
      rows.push({ mode, seconds, cpu });
      console.log(
        `repeat ${r + 1}: ${mode.padEnd(14)} ${seconds.toFixed(1).padStart(6)} s wall, ${cpu.toFixed(1).padStart(6)} s CPU   load before ${before}, after ${load()}`,
      );
    }
  }
  const mean = (m: string, k: 'seconds' | 'cpu' = 'seconds') => rows.filter((x) => x.mode === m).reduce((s, x) => s + x[k], 0) / repeats;
  console.log(
    `mean: single ${mean('single process').toFixed(1)} s, 1 worker ${mean('1 worker').toFixed(1)} s, 2 workers ${mean('2 workers').toFixed(1)} s; speed-up 2 vs 1 worker ×${(mean('1 worker') / mean('2 workers')).toFixed(2)}; CPU s per wall s: ${['single process', '1 worker', '2 workers'].map((m) => (mean(m, 'cpu') / mean(m)).toFixed(2)).join(' / ')}`,
  );
} finally {
  await redis.stop();
  rmSync(root, { recursive: true, force: true });
}
