import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { QUIET_CHILD_ENV, isTensorFlowInfoLine, wantsQuietRelaunch } from './native-logs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-native-logs-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Lines as TensorFlow writes them: this machine's libtensorflow (Abseil logging) and 2.9.1's, which tfjs-node 4.22 downloads
const TF_LINES = [
  'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR',
  'I0000 00:00:1796667678.884507   22081 port.cc:153] oneDNN custom operations are on. You may see slightly different numerical results due to floating-point round-off errors from different computation orders. To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.',
  'I0000 00:00:1796667679.083619   22081 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use available CPU instructions in performance-critical operations.',
  'To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 AVX_VNNI FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.',
  '2022-06-01 10:00:00.123456: I tensorflow/core/platform/cpu_feature_guard.cc:193] This TensorFlow binary is optimized with oneAPI Deep Neural Network Library (oneDNN) to use the following CPU instructions in performance-critical operations:  AVX2 FMA',
  "2024-08-24 22:24:04.039287: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file: No such file or directory; LD_LIBRARY_PATH: /usr/local/cuda:/usr/local/cuda/lib64:",
  'W0000 00:00:1796667679.083619   22081 gpu_device.cc:2344] Cannot dlopen some GPU libraries. Skipping registering GPU devices...',
];
const KEPT_LINES = [
  'E0000 00:00:1796667679.083619   22081 cuda_driver.cc:271] failed call to cuInit: CUDA_ERROR_NO_DEVICE',
  '2024-08-24 22:24:04.039287: F tensorflow/core/framework/op_kernel.cc:1] Check failed',
  'backend: tensorflow (requested auto; not available: @tensorflow/tfjs-node-gpu: not installed)',
  'tagi: warning: I0000 is not a log line when it does not start the line',
  'WARNING: something of ours',
  '[base] step 1/4 loss=11.83',
];

describe('isTensorFlowInfoLine', () => {
  it.each(TF_LINES)('hides %s', (line) => expect(isTensorFlowInfoLine(line)).toBe(true));
  it.each(KEPT_LINES)('keeps %s', (line) => expect(isTensorFlowInfoLine(line)).toBe(false));
});

describe('wantsQuietRelaunch', () => {
  it('relaunches unless --verbose, the user’s TF_CPP_MIN_LOG_LEVEL, the filtered child itself, or Windows', () => {
    expect(wantsQuietRelaunch({ verbose: false, env: {}, platform: 'linux' })).toBe(true);
    expect(wantsQuietRelaunch({ verbose: true, env: {}, platform: 'linux' })).toBe(false);
    expect(wantsQuietRelaunch({ verbose: false, env: { TF_CPP_MIN_LOG_LEVEL: '0' }, platform: 'linux' })).toBe(false);
    expect(wantsQuietRelaunch({ verbose: false, env: { [QUIET_CHILD_ENV]: '1' }, platform: 'darwin' })).toBe(false);
    expect(wantsQuietRelaunch({ verbose: false, env: {}, platform: 'win32' })).toBe(false);
  });
});

// A command as a bin would be: it relaunches itself through runQuietChild unless told not to, and in the child writes
// TensorFlow's lines straight to file descriptor 2 (as libtensorflow does), then its own lines; it stops on the first
// SIGINT/SIGTERM after a "stopping" line (exit 130/143), and at once on a second one (exit 131).
const bin = path.join(tmp, 'bin.mts');
fs.writeFileSync(
  bin,
  `import fs from 'node:fs';
import { exitLikeChild, followQuietLauncher, runQuietChild, wantsQuietRelaunch } from ${JSON.stringify(path.join(here, 'native-logs.ts'))};
const args = process.argv.slice(2);
if (wantsQuietRelaunch({ verbose: args.includes('--verbose') })) exitLikeChild(await runQuietChild());
else {
  followQuietLauncher(() => fs.writeSync(1, 'orphaned\\n'));
  fs.writeSync(2, ${JSON.stringify(`${TF_LINES.slice(0, 4).join('\n')}\n`)});
  console.log('ours first: TF_CPP_MIN_LOG_LEVEL=' + (process.env.TF_CPP_MIN_LOG_LEVEL ?? 'unset') + ' pid=' + process.pid);
  console.error('an error line of ours');
  if (args.includes('--wait')) {
    let signals = 0;
    const stop = (s: string) => {
      signals++;
      if (signals === 1) { console.log('stopping on ' + s); setTimeout(() => process.exit(s === 'SIGTERM' ? 143 : 130), 300); }
      else process.exit(131);
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    console.log('waiting');
    setInterval(() => {}, 1000);
  } else process.exit(Number(args.find((a) => /^\\d+$/.test(a)) ?? 0));
}
`,
);
const tsx = path.resolve(here, '..', '..', '..', 'node_modules', 'tsx', 'dist', 'loader.mjs');

function launch(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const e = { ...process.env, ...env };
  delete e['TF_CPP_MIN_LOG_LEVEL'];
  delete e[QUIET_CHILD_ENV];
  return spawn(process.execPath, ['--import', tsx, bin, ...args], { env: { ...e, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function finish(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

describe('runQuietChild (a relaunched command)', () => {
  it('drops TensorFlow’s INFO/WARNING lines from the child’s stderr, keeps ours, and exits with the child’s code', async () => {
    const r = await finish(launch(['7']));
    expect(r.code).toBe(7);
    expect(r.stderr).toBe('an error line of ours\n');
    expect(r.stdout).toMatch(/^ours first: TF_CPP_MIN_LOG_LEVEL=2 pid=\d+\n$/);
  });

  it('--verbose and a user’s TF_CPP_MIN_LOG_LEVEL run unfiltered (TensorFlow’s lines kept, the user’s level unchanged)', async () => {
    const verbose = await finish(launch(['--verbose']));
    expect(verbose.stderr).toContain(TF_LINES[1]);
    expect(verbose.stdout).toMatch(/TF_CPP_MIN_LOG_LEVEL=unset/);
    const own = await finish(launch([], { TF_CPP_MIN_LOG_LEVEL: '1' }));
    expect(own.stderr).toContain(TF_LINES[0]);
    expect(own.stdout).toMatch(/TF_CPP_MIN_LOG_LEVEL=1 /);
  });

  it('passes one SIGINT on once (a graceful stop), a second one too (an immediate stop), and SIGTERM', async () => {
    const waitFor = (c: ChildProcess, text: RegExp) =>
      new Promise<void>((resolve) => {
        let out = '';
        c.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (text.test(out)) resolve();
        });
      });
    const once = launch(['--wait']);
    const onceDone = finish(once);
    await waitFor(once, /waiting/);
    once.kill('SIGINT');
    const r1 = await onceDone;
    expect(r1.stdout).toMatch(/stopping on SIGINT\n$/);
    expect(r1.code).toBe(130);

    const twice = launch(['--wait']);
    const twiceDone = finish(twice);
    await waitFor(twice, /waiting/);
    twice.kill('SIGINT');
    await waitFor(twice, /stopping/);
    twice.kill('SIGINT');
    expect((await twiceDone).code).toBe(131);

    const term = launch(['--wait']);
    const termDone = finish(term);
    await waitFor(term, /waiting/);
    term.kill('SIGTERM');
    const r3 = await termDone;
    expect(r3.stdout).toMatch(/stopping on SIGTERM/);
    expect(r3.code).toBe(143);
  });

  it('the child of a launcher killed outright hears of it (its IPC channel closes)', async () => {
    const c = launch(['--wait']);
    let out = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve) => c.stdout!.on('data', () => /waiting/.test(out) && resolve()));
    const childPid = Number(/pid=(\d+)/.exec(out)?.[1]);
    c.kill('SIGKILL');
    // the orphan writes 'orphaned' to the stdout it shares with the dead launcher, then is stopped by us
    await new Promise((r) => setTimeout(r, 1000));
    expect(out).toMatch(/orphaned/);
    process.kill(childPid, 'SIGKILL');
  });
});

describe('a real libtensorflow load under the launcher', () => {
  const loads = spawnSync(process.execPath, ['-e', "require('@tensorflow/tfjs-node')"], { cwd: here, encoding: 'utf8', timeout: 120_000 }).status === 0;
  it.skipIf(!loads)('shows TensorFlow’s start-up lines without it, none with it, and our line first', async () => {
    const script = path.join(tmp, 'tf.mts');
    fs.writeFileSync(
      script,
      `import { createRequire } from 'node:module';
import { exitLikeChild, runQuietChild, wantsQuietRelaunch } from ${JSON.stringify(path.join(here, 'native-logs.ts'))};
if (wantsQuietRelaunch({ verbose: process.argv.includes('--verbose') })) exitLikeChild(await runQuietChild());
else {
  console.log('ours first');
  const tf = createRequire(${JSON.stringify(path.join(here, 'x.js'))})('@tensorflow/tfjs-node');
  tf.matMul(tf.ones([32, 32]), tf.ones([32, 32])).dataSync();
  console.log('done');
}
`,
    );
    const run = (args: string[]) => {
      const e = { ...process.env };
      delete e['TF_CPP_MIN_LOG_LEVEL'];
      delete e[QUIET_CHILD_ENV];
      return spawnSync(process.execPath, ['--import', tsx, script, ...args], { env: e, encoding: 'utf8', timeout: 120_000 });
    };
    const loud = run(['--verbose']);
    expect(loud.status).toBe(0);
    expect(loud.stderr.split('\n').some(isTensorFlowInfoLine)).toBe(true); // this machine's TensorFlow does log at start
    const quiet = run([]);
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toBe('ours first\ndone\n');
  });
});
