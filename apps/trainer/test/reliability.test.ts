// Reliability of the `tagi` CLI as a user meets it: real processes (the CLI from source through tsx),
// real signals (SIGINT, SIGTERM, SIGKILL), real concurrency, real OS errors. One test per trainer row of
// issue 14's table, and of issue 23's (a stage that diverges; weights holding NaN given to eval and
// generate); each asserts the new behaviour, which the old CLI did not have.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { findNonFinite, initBackend } from '@tagi/tensor-core';
import { readSafetensors, writeSafetensors } from '@tagi/tensor-core/node';
import { readRunState } from '@tagi/run-dir/node';
import { createRandomT5, makeT5Config } from '@tagi/t5-model';
import { saveT5 } from '@tagi/t5-model/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readMetrics } from '../src/run/metrics.js';

const appDir = path.resolve(import.meta.dirname, '..');
const tsx = pathToFileURL(path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs')).href;
const root = mkdtempSync(path.join(os.tmpdir(), 'tagi-reliability-'));
chmodSync(root, 0o755); // readable by the unprivileged user of the permission test

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** Every CLI process a test started: killed after each test, so a failing test leaves none running. */
const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Starts `tagi <args>` as a separate process; `waitFor` resolves when its output matches. */
function start(args: string[], opts: { cwd?: string; uid?: number } = {}) {
  const child: ChildProcess = spawn(process.execPath, ['--import', tsx, path.join(appDir, 'src', 'cli.ts'), ...args], {
    cwd: opts.cwd ?? root,
    env: { ...process.env, TSX_TSCONFIG_PATH: path.join(appDir, 'tsconfig.json'), FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}),
  });
  children.add(child);
  let out = '';
  let err = '';
  const watchers: { re: RegExp; resolve: () => void }[] = [];
  const check = () => {
    for (const w of watchers.splice(0)) (w.re.test(out + err) ? w.resolve : () => watchers.push(w))();
  };
  child.stdout?.on('data', (d: Buffer) => ((out += d.toString()), check()));
  child.stderr?.on('data', (d: Buffer) => ((err += d.toString()), check()));
  const done = new Promise<Exit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out, err })));
  return {
    child,
    done,
    waitFor: (re: RegExp) =>
      new Promise<void>((resolve, reject) => {
        watchers.push({ re, resolve });
        check();
        void done.then(() => (re.test(out + err) ? resolve() : reject(new Error(`exited before ${re}:\n${out}\n${err}`))));
      }),
  };
}

const tagi = (args: string[], opts: { cwd?: string; uid?: number } = {}) => start(args, opts).done;
/** `tagi …` as a shell command printed by the CLI, run as printed (`tagi` is the CLI from source here). */
function runPrinted(command: string) {
  const cli = `${process.execPath} --import ${tsx} ${path.join(appDir, 'src', 'cli.ts')}`;
  return spawnSync('bash', ['-c', command.replace(/^tagi |&& tagi /, (m) => m.replace('tagi ', `${cli} `))], {
    cwd: root,
    env: { ...process.env, TSX_TSCONFIG_PATH: path.join(appDir, 'tsconfig.json'), FORCE_COLOR: '0' },
  });
}
/** A copy of weights dir `from` at `to` whose `file` holds a NaN in its first float tensor (sorted by key); returns that key. */
async function poisoned(from: string, to: string, file: string): Promise<string> {
  spawnSync('cp', ['-r', from, to]);
  const { tensors, metadata } = await readSafetensors(path.join(to, file));
  const key = [...tensors.keys()].sort().find((k) => tensors.get(k)?.dtype === 'float32') as string;
  const values = Float32Array.from((tensors.get(key) as tf.Tensor).dataSync());
  values[0] = Number.NaN;
  const bad = tf.tensor(values, (tensors.get(key) as tf.Tensor).shape);
  await writeSafetensors(path.join(to, file), new Map([...tensors, [key, bad]]), metadata);
  tf.dispose([...tensors.values(), bad]);
  return key;
}
/** Every weight in the safetensors files under `dir` is finite. */
async function expectFinite(dir: string): Promise<void> {
  for (const f of readdirSync(dir, { recursive: true })
    .map(String)
    .filter((n) => n.endsWith('.safetensors'))) {
    const { tensors } = await readSafetensors(path.join(dir, f));
    expect(findNonFinite(tensors), f).toBeUndefined();
    tf.dispose([...tensors.values()]);
  }
}
const bytes = (f: string) => readFileSync(f);
const loggedSteps = (runDir: string, stage: string) =>
  readMetrics(path.join(runDir, 'metrics.jsonl'))
    .filter((e) => e.stage === stage && e.event === undefined)
    .map((e) => e.step);
/** The one-line message of a user-facing failure: no stack trace, no "internal error". */
function oneLine(e: Exit): string {
  expect(e.err).not.toMatch(/internal error|\n\s+at /);
  const lines = e.err.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0] as string;
}

// fixtures: a small base T5 (tagi base) and a hypernetwork on it (tagi pretrain), smoke-sized, cpu
const fx = { base: path.join(root, 'fx-base'), hn: path.join(root, 'fx-hn'), nan: path.join(root, 'nan-t5') };
const model = path.join(fx.base, 'base-model');
// one hypernetwork seed: `tagi pretrain` writes hypernet-pretrained/seed-<seed> per seed
const hypernet = path.join(fx.hn, 'hypernet-pretrained', 'seed-42');
const SMOKE = ['--preset=smoke', '--backend=cpu'];

beforeAll(async () => {
  const b = await tagi(['base', ...SMOKE, `--run-dir=${fx.base}`]);
  expect(b.code, b.err).toBe(0);
  const p = await tagi(['pretrain', ...SMOKE, '--hypernet.seeds=1', `--model=${model}`, `--run-dir=${fx.hn}`]);
  expect(p.code, p.err).toBe(0);
  for (const d of [fx.base, model, fx.hn, path.dirname(hypernet), hypernet]) chmodSync(d, 0o755);
  // a T5 whose weights hold a NaN
  await initBackend({ backend: 'cpu' });
  // (the T5 vocabulary, so the tokenizer fits and the load, not the vocabulary check, is what fails)
  const t5 = createRandomT5(makeT5Config({ vocabSize: 32128, dModel: 8, dKv: 4, numHeads: 2, dFf: 16, numLayers: 1, numDecoderLayers: 1 }), 3);
  const q = t5.getModule('encoder.block.0.layer.0.SelfAttention.q') as unknown as { weight: tf.Variable };
  const w = Float32Array.from(q.weight.dataSync());
  w[5] = Number.NaN;
  const t = tf.tensor(w, q.weight.shape);
  q.weight.assign(t);
  t.dispose();
  await saveT5(t5, fx.nan);
  t5.dispose();
}, 600_000);

describe('tagi reliability (spawned processes, real signals and concurrency)', () => {
  it('generate --out <existing file>: exit 2, one line naming the path, nothing written', async () => {
    const file = path.join(root, 'a-file');
    writeFileSync(file, 'x');
    const r = await tagi(['generate', `--hypernet=${hypernet}`, '--instruction=Return the last word.', `--out=${file}`]);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toBe(`tagi: --out: '${file}' is a file; choose a directory path for the adapter`);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('read-only --out and --run-dir: exit 2, one line naming the path and what to do (a real EACCES)', async () => {
    const ro = path.join(root, 'read-only');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    // root may write anywhere: the CLI then runs as an unprivileged user, so the kernel says EACCES
    const as = process.getuid?.() === 0 ? { uid: 65534 } : {};
    let r = await tagi(['generate', `--hypernet=${hypernet}`, '--instruction=Return the last word.', `--out=${path.join(ro, 'adapter')}`, '--backend=cpu'], as);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toBe(
      `tagi: cannot access '${ro}': permission denied (EACCES); choose a location you can write (--run-dir / --out) or fix its permissions`,
    );
    r = await tagi(['base', ...SMOKE, `--run-dir=${path.join(ro, 'runs', 'r1')}`], as);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(new RegExp(`^tagi: cannot access '${ro}': permission denied \\(EACCES\\); choose a location you can write`));
    expect(readdirSync(ro)).toEqual([]);
  });

  it('a full disk (ENOSPC) while a run writes: exit 2, one line naming the file and what to do', async () => {
    const runDir = path.join(root, 'enospc');
    mkdirSync(runDir);
    symlinkSync('/dev/full', path.join(runDir, 'metrics.jsonl')); // every write to it fails with ENOSPC
    const r = await tagi(['base', ...SMOKE, `--run-dir=${runDir}`]);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toBe(
      `tagi: cannot write '${path.join(runDir, 'metrics.jsonl')}': no space left on the device (ENOSPC); free some space (a run continues with --resume), or choose another --run-dir / --out`,
    );
  });

  it('generate … | head -1: exit 0 and the adapter is written (EPIPE on stdout is not an error)', async () => {
    const out = path.join(root, 'piped-adapter');
    const cmd = [
      process.execPath,
      '--import',
      tsx,
      path.join(appDir, 'src', 'cli.ts'),
      'generate',
      `--hypernet=${hypernet}`,
      "'--instruction=Return the last word.'",
      `--out=${out}`,
      '--backend=cpu',
    ].join(' ');
    const r = spawnSync('bash', ['-c', `${cmd} | head -1; echo "tagi exit \${PIPESTATUS[0]}" >&2`], {
      cwd: root,
      env: { ...process.env, TSX_TSCONFIG_PATH: path.join(appDir, 'tsconfig.json') },
    });
    expect(r.stdout.toString()).toMatch(/^backend: cpu/);
    expect(r.stderr.toString()).toMatch(/tagi exit 0\n$/);
    expect(readdirSync(out).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'tagi_adapter.json', 'tagi_fusion.safetensors']);
  });

  it('3 concurrent generate into one --out: exactly one writes, the others refuse clearly; the adapter is whole', async () => {
    const out = path.join(root, 'contended');
    const runs = await Promise.all(
      [0, 1, 2].map(() => tagi(['generate', `--hypernet=${hypernet}`, '--instruction=Return the last word.', `--out=${out}`, '--backend=cpu'])),
    );
    const won = runs.filter((r) => r.code === 0);
    expect(won).toHaveLength(1);
    expect(won[0]?.out).toMatch(/wrote peft adapter/);
    for (const r of runs.filter((x) => x.code !== 0)) {
      expect(r.code).toBe(2);
      expect(oneLine(r)).toMatch(
        /in use by pid \d+ \('tagi generate'|exists and is not empty; nothing was overwritten|appeared meanwhile and is not empty; nothing was overwritten/,
      );
    }
    expect(readdirSync(out).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'tagi_adapter.json', 'tagi_fusion.safetensors']);
    expect(JSON.parse(readFileSync(path.join(out, 'adapter_config.json'), 'utf8')).peft_type).toBe('LORA');
    expect(readdirSync(root).filter((n) => n.startsWith('.contended'))).toEqual([]); // no temp dir or lock left
  });

  it('instructions: whitespace-only refused before loading; a 101k-character one cut with a warning; a missing one refused at once', async () => {
    let r = await tagi(['generate', `--hypernet=${hypernet}`, '--instruction=   \t ', `--out=${path.join(root, 'ws')}`]);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toBe('tagi: --instruction: empty or whitespace only; give the task definition as text');
    expect(r.out).toBe(''); // nothing was loaded (the backend line comes first when anything is)
    expect(existsSync(path.join(root, 'ws'))).toBe(false);

    r = await tagi(['generate', `--hypernet=${hypernet}`, `--out=${path.join(root, 'no-instruction')}`]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^tagi: 'tagi generate' needs --instruction\n/);
    expect(r.out).toBe('');
    expect(existsSync(path.join(root, 'no-instruction'))).toBe(false);

    const long = path.join(root, 'long');
    r = await tagi([
      'generate',
      `--hypernet=${hypernet}`,
      `--instruction=${'Return the last word of the input. '.repeat(2900)}`,
      `--out=${long}`,
      '--backend=cpu',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(
      /^tagi: warning: the instruction is \d{5,} tokens, more than the hypernetwork reads \(max_instruction_length 96\); it was cut to 96 tokens/,
    );
    expect(existsSync(path.join(long, 'adapter_model.safetensors'))).toBe(true);
  });

  it('a flag the command does not use (demo --out) is refused; failing commands leave no stray runs/ dir', async () => {
    const cwd = mkdtempSync(path.join(root, 'cwd-'));
    let r = await tagi(['demo', `--out=${path.join(cwd, 'x')}`], { cwd });
    expect(r.code).toBe(2);
    expect(oneLine(r)).toBe("tagi: 'tagi demo' does not use --out (an option of: tagi generate); see 'tagi demo --help'");
    r = await tagi(['generate', `--hypernet=${hypernet}`, '--instruction=Return the last word.', '--out=adapter', '--backend=cpu'], { cwd });
    expect(r.code).toBe(0);
    // fails after its run dir was made (the weights are bad): what it created is removed again
    r = await tagi(['eval', ...SMOKE, `--model=${fx.nan}`], { cwd });
    expect(r.code).toBe(2);
    expect(readdirSync(cwd)).toEqual(['adapter']);
  });

  it('weights holding NaN: exit 2 naming the file and the tensor', async () => {
    const r = await tagi(['eval', ...SMOKE, `--model=${fx.nan}`, `--run-dir=${path.join(root, 'nan-eval')}`]);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toBe(
      `tagi: ${path.join(fx.nan, 'model.safetensors')}: tensor 'encoder.block.0.layer.0.SelfAttention.q.weight' holds non-finite values (NaN: 1, ±Inf: 0): corrupt or diverged weights; to use them anyway, give --allow-non-finite to the command that loads them`,
    );
  });

  it('an adapter or a hypernetwork holding NaN given to eval and generate: exit 2 naming file and tensor, nothing written; --allow-non-finite uses them with a warning', async () => {
    const nanHn = path.join(root, 'nan-hypernet');
    const hnKey = await poisoned(hypernet, nanHn, 'hypernet.safetensors');
    const out = path.join(root, 'nan-generate');
    let r = await tagi(['generate', `--hypernet=${nanHn}`, '--instruction=Return the last word.', `--out=${out}`, '--backend=cpu']);
    const hnMessage = `${path.join(nanHn, 'hypernet.safetensors')}: tensor '${hnKey}' holds non-finite values (NaN: 1, ±Inf: 0): corrupt or diverged weights`;
    expect(r.code).toBe(2);
    expect(oneLine(r)).toBe(`tagi: ${hnMessage}; to use them anyway, give --allow-non-finite to the command that loads them`);
    expect(existsSync(out)).toBe(false);
    r = await tagi(['generate', `--hypernet=${nanHn}`, '--instruction=Return the last word.', `--out=${out}`, '--backend=cpu', '--allow-non-finite']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`tagi: warning: ${hnMessage}; used anyway (--allow-non-finite)\n`);
    expect(existsSync(path.join(out, 'adapter_model.safetensors'))).toBe(true);
    // a peft adapter holding NaN (from a good generated one) given to eval as the multitask adapter
    const good = path.join(root, 'good-adapter');
    expect((await tagi(['generate', `--hypernet=${hypernet}`, '--instruction=Return the last word.', `--out=${good}`, '--backend=cpu'])).code).toBe(0);
    const nanAdapter = path.join(root, 'nan-adapter');
    const fileKey = await poisoned(good, nanAdapter, 'adapter_model.safetensors');
    const runDir = path.join(root, 'nan-adapter-eval');
    r = await tagi(['eval', ...SMOKE, `--model=${model}`, `--adapter=${nanAdapter}`, `--run-dir=${runDir}`]);
    expect(r.code).toBe(2);
    // named as the adapter's module path (peft's key without base_model.model. and .weight)
    const moduleKey = fileKey.replace(/^base_model\.model\./, '').replace(/\.weight$/, '');
    expect(oneLine(r)).toBe(
      `tagi: ${path.join(nanAdapter, 'adapter_model.safetensors')}: tensor '${moduleKey}' holds non-finite values (NaN: 1, ±Inf: 0): corrupt or diverged weights; to use them anyway, give --allow-non-finite to the command that loads them`,
    );
    expect(existsSync(path.join(runDir, 'results.json'))).toBe(false);
  });

  it('a stage whose loss turns NaN (base, lr 1e12): exit 2 at that update naming it, no base-model/ written, no checkpoint of the diverging weights; the printed resume with a lower lr finishes', async () => {
    const runDir = path.join(root, 'diverged');
    const r = await tagi(['base', ...SMOKE, '--base.train.lr=1e12', `--run-dir=${runDir}`]);
    expect(r.code).toBe(2);
    const line = oneLine(r);
    expect(line).toBe(
      `tagi: stage base diverged at update 3/4: loss NaN, gradient norm NaN (lr 1e+12); the update was not applied and nothing of it saved, and the stage wrote no output; ` +
        `the checkpoint of update 2 was removed (its weights give this whatever the lr); a resume starts the stage again. ` +
        `Continue with a lower learning rate (the smoke preset's): tagi base --resume --run-dir=${runDir} --base.train.lr=0.003`,
    );
    expect(existsSync(path.join(runDir, 'base-model'))).toBe(false);
    expect(readdirSync(path.join(runDir, 'checkpoints', 'base'))).toEqual([]); // update 2's weights give NaN at update 3 whatever the lr
    expect(loggedSteps(runDir, 'base')).toEqual([1, 2]); // the NaN update is not logged as a step
    expect(readRunState(runDir)?.stages['base']).toMatchObject({ status: 'running', step: 0 });
    const again = runPrinted(line.slice(line.indexOf('tagi base --resume')));
    expect(again.status, again.stderr.toString()).toBe(0);
    expect(again.stdout.toString()).toContain('resuming with changed settings (config.json updated): base.train.lr 1e+12 → 0.003');
    await expectFinite(path.join(runDir, 'base-model'));
    expect(JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8')).base.train.lr).toBe(0.003);
  });

  it('divergence after a checkpoint: the checkpoint before the diverging update is kept, and --resume with a lower lr continues from it', async () => {
    const runDir = path.join(root, 'diverged-later');
    const p = start(['base', ...SMOKE, '--base.train.steps=12', '--checkpoint-every=2', `--run-dir=${runDir}`]);
    await p.waitFor(/\[base\] step 5\/12/);
    p.child.kill('SIGTERM');
    const stopped = await p.done;
    expect(stopped.code).toBe(143);
    const at = Number(/interrupted in stage base at step (\d+)\/12/.exec(stopped.err)?.[1]);
    // one update at lr 1e12 from there, then the next update's loss is NaN
    const r = await tagi(['base', '--resume', `--run-dir=${runDir}`, '--base.train.lr=1e12']);
    expect(r.code).toBe(2);
    const removed = (at + 1) % 2 === 0 ? `the checkpoint of update ${at + 1} was removed (its weights give this whatever the lr); ` : '';
    expect(oneLine(r)).toBe(
      `tagi: stage base diverged at update ${at + 2}/12: loss NaN, gradient norm NaN (lr 1e+12); the update was not applied and nothing of it saved, and the stage wrote no output; ` +
        `${removed}a resume continues from the checkpoint of update ${at}. Continue with a lower learning rate (the smoke preset's): tagi base --resume --run-dir=${runDir} --base.train.lr=0.003`,
    );
    expect(
      readdirSync(path.join(runDir, 'checkpoints', 'base'))
        .sort()
        .at(-1),
    ).toBe(`step-${String(at).padStart(6, '0')}`);
    await expectFinite(path.join(runDir, 'checkpoints'));
    const done = await tagi(['base', '--resume', `--run-dir=${runDir}`, '--base.train.lr=0.003']);
    expect(done.code, done.err).toBe(0);
    expect(done.out).toContain(`[base] resuming at step ${at}/12`);
    await expectFinite(path.join(runDir, 'base-model'));
  });

  it('SIGINT during evaluation stops at the next batch with exit 130 (no results claimed)', async () => {
    const runDir = path.join(root, 'eval-sigint');
    const p = start(['eval', ...SMOKE, `--model=${model}`, `--run-dir=${runDir}`, '--prompt.max-eval-instances-per-task=6']);
    await p.waitFor(/== Seen tasks, training instances: \d+ tasks, \d+ instances/);
    p.child.kill('SIGINT');
    const r = await p.done;
    expect(r.code).toBe(130);
    expect(r.err).toMatch(
      /interrupted during evaluation \(it keeps no checkpoint: it runs again from its beginning\); continue with: tagi eval --resume --run-dir=/,
    );
    expect(existsSync(path.join(runDir, 'results.json'))).toBe(false);
  });

  it('no usable checkpoint left: the advice printed is a command that works, as printed', async () => {
    const runDir = path.join(root, 'advice');
    const p = start(['base', ...SMOKE, '--base.train.steps=8', '--checkpoint-every=0', `--run-dir=${runDir}`]);
    await p.waitFor(/\[base\] step 2\/8/);
    p.child.kill('SIGINT'); // the stop saves the one checkpoint
    expect((await p.done).code).toBe(130);
    const dir = path.join(runDir, 'checkpoints', 'base');
    const [only] = readdirSync(dir);
    writeFileSync(path.join(dir, only as string, 'checkpoint.json'), '{"format": "tagi-checkpoint",'); // damaged
    const r = await tagi(['base', '--resume', `--run-dir=${runDir}`]);
    expect(r.code).toBe(2);
    const advice = /\(to restart this stage from its beginning: (rm -rf '[^']+' && tagi base --resume --run-dir=\S+)\)/.exec(oneLine(r));
    expect(advice).not.toBeNull();
    // run it as printed (`tagi` is the CLI from source here)
    const cli = `${process.execPath} --import ${tsx} ${path.join(appDir, 'src', 'cli.ts')}`;
    const followed = spawnSync('bash', ['-c', advice![1]!.replace(/&& tagi /, `&& ${cli} `)], {
      cwd: root,
      env: { ...process.env, TSX_TSCONFIG_PATH: path.join(appDir, 'tsconfig.json') },
    });
    expect(followed.status, followed.stderr.toString()).toBe(0);
    expect(followed.stdout.toString()).toMatch(/\[base\] 8 steps/); // the stage started again from step 0
    expect(existsSync(path.join(runDir, 'base-model', 'model.safetensors'))).toBe(true);
  });

  describe('interrupted training (byte-identical resume)', () => {
    const cmd = (runDir: string) => ['base', ...SMOKE, '--base.train.steps=40', '--checkpoint-every=5', `--run-dir=${runDir}`];
    const full = path.join(root, 'full');
    let reference: Buffer;
    beforeAll(async () => {
      const r = await tagi(cmd(full));
      expect(r.code, r.err).toBe(0);
      reference = bytes(path.join(full, 'base-model', 'model.safetensors'));
    }, 300_000);

    it('kill -9, then two concurrent --resume: one continues, the other refuses the locked run; weights byte-identical, each step logged once', async () => {
      const runDir = path.join(root, 'killed');
      const p = start(cmd(runDir));
      await p.waitFor(/\[base\] step 12\/40/); // past the checkpoint at 10: steps 11, 12 are logged but not saved
      p.child.kill('SIGKILL');
      expect((await p.done).signal).toBe('SIGKILL');
      expect(loggedSteps(runDir, 'base').at(-1)).toBeGreaterThanOrEqual(12);
      const [a, b] = await Promise.all([tagi(['base', '--resume', `--run-dir=${runDir}`]), tagi(['base', '--resume', `--run-dir=${runDir}`])]);
      const [winner, loser] = a.code === 0 ? [a, b] : [b, a];
      expect(winner.code, winner.err).toBe(0);
      expect(winner.out).toMatch(/\[base\] resuming at step 10\/40/); // the stale lock of the killed process was taken over
      expect(loser.code).toBe(2);
      expect(oneLine(loser)).toMatch(
        new RegExp(`^tagi: ${path.join(runDir, '.tagi.lock')}: in use by pid \\d+ \\('tagi base --resume', since .*\\); wait for it to finish$`),
      );
      expect(bytes(path.join(runDir, 'base-model', 'model.safetensors')).equals(reference)).toBe(true);
      expect(loggedSteps(runDir, 'base')).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(existsSync(path.join(runDir, '.tagi.lock'))).toBe(false);
    });

    it('SIGTERM saves a checkpoint and exits 143; a truncated newest checkpoint falls back to the previous one with a message', async () => {
      const runDir = path.join(root, 'terminated');
      const p = start(cmd(runDir));
      await p.waitFor(/\[base\] step 12\/40/);
      p.child.kill('SIGTERM');
      const r = await p.done;
      expect(r.code).toBe(143);
      expect(r.err).toMatch(/SIGTERM received: stopping \(training saves a checkpoint after the current step/);
      const m = /interrupted in stage base at step (\d+)\/40: checkpoint saved in (\S+); continue with: (tagi base --resume --run-dir=\S+)/.exec(r.err);
      expect(m).not.toBeNull();
      const stoppedAt = Number(m![1]);
      const newest = path.join(m![2]!, `step-${String(stoppedAt).padStart(6, '0')}`, 'state.safetensors');
      truncateSync(newest, statSync(newest).size - 100); // a crash while the disk was syncing it
      const again = await tagi(['base', '--resume', `--run-dir=${runDir}`]);
      expect(again.code, again.err).toBe(0);
      expect(again.out).toMatch(/warning: .*state\.safetensors: sha256 mismatch .*; resuming from the previous checkpoint .*step-000010/);
      expect(again.out).toMatch(/\[base\] resuming at step 10\/40/);
      expect(bytes(path.join(runDir, 'base-model', 'model.safetensors')).equals(reference)).toBe(true);
      expect(loggedSteps(runDir, 'base')).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    });
  });
});
