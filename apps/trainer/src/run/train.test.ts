// A training stage through the trainer's one path (Run + trainStage → tensor-core's fit) on a toy
// objective: a stop saves a checkpoint and a resumed run ends with exactly the weights of an
// uninterrupted one; metrics.jsonl holds every step once after a resume (also when the newest
// checkpoint was lost or damaged: it falls back, says so, and cuts the log back); when no checkpoint is
// usable the advice printed is a command that works; an edited config and a second run are refused.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type Objective, Rng, initBackend } from '@tagi/tensor-core';
import { readRunState } from '@tagi/run-dir/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { CliError, InterruptedError } from '../common/errors.js';
import type { RunInvocation } from '../cli/invocation.js';
import { readMetrics } from './metrics.js';
import { resolveConfig } from '../config/resolve.js';
import { Run } from './run.js';
import { captureIO } from '../common/test-helpers.js';
import { type FitHost, fitStage, trainStage } from './train.js';
import { DirCheckpointStore } from '@tagi/tensor-core/node';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const STEPS = { steps: 10, batchSize: 8, lr: 0.05, warmupSteps: 0 };

/** Linear regression: batches derived from (step) only; `onBatch` sees each step as it is drawn. */
function toyObjective(initSeed: number, onBatch?: (step: number) => void): Objective<{ x: tf.Tensor2D; y: tf.Tensor2D }> & { w: tf.Variable } {
  const w = tf.variable(tf.tensor2d(new Rng(initSeed).normalArray(4), [4, 1]));
  const target = tf.tensor2d([1, -2, 0.5, 3], [4, 1]);
  return {
    w,
    params: new Map([['w', w]]),
    batch: ({ step }) => {
      onBatch?.(step);
      const x = tf.tensor2d(new Rng(5).fork(`step-${step}`).normalArray(32), [8, 4]);
      return { x, y: tf.matMul(x, target) };
    },
    loss: (b) => ({ loss: tf.mean(tf.square(tf.sub(tf.matMul(b.x, w), b.y))) as tf.Scalar }),
    release: (b) => tf.dispose([b.x, b.y]),
  };
}

function invocation(runDir: string, resume: boolean, signal?: AbortSignal, checkpointEvery = 3): RunInvocation & { io: ReturnType<typeof captureIO> } {
  const config = resolveConfig({
    preset: 'smoke',
    overrides: [
      ['checkpointEvery', String(checkpointEvery)],
      ['logEvery', '1'],
      ['backend', 'cpu'],
    ],
  });
  return { command: 'base', config, runDir, resume, io: captureIO(signal) };
}

async function train(runDir: string, resume: boolean, opts: { stopAt?: number; initSeed?: number } = {}) {
  const controller = new AbortController();
  const inv = invocation(runDir, resume, controller.signal);
  const run = await Run.open(inv, []);
  const objective = toyObjective(opts.initSeed ?? 1, (s) => {
    if (s === opts.stopAt) controller.abort(); // a SIGINT while step `stopAt` + 1 runs
  });
  try {
    await trainStage(run, 'toy', objective, STEPS);
    return { error: undefined, weights: Array.from(objective.w.dataSync()), out: inv.io.out() };
  } catch (e) {
    return { error: e, weights: Array.from(objective.w.dataSync()), out: inv.io.out() };
  } finally {
    run.close();
    objective.w.dispose();
  }
}

const steps = (runDir: string) =>
  readMetrics(path.join(runDir, 'metrics.jsonl'))
    .filter((e) => e.stage === 'toy' && e.event === undefined)
    .map((e) => e.step);

describe('a training stage', () => {
  const base = mkdtempSync(path.join(tmpdir(), 'tagi-train-'));
  let expected: number[] = [];

  it('resumes exactly: interrupted + resumed weights equal an uninterrupted run, each step logged once', async () => {
    expected = (await train(path.join(base, 'full'), false)).weights;
    const dir = path.join(base, 'stopped');
    const first = await train(dir, false, { stopAt: 4 });
    expect(first.error).toBeInstanceOf(InterruptedError);
    expect((first.error as InterruptedError).exitCode).toBe(130);
    expect((first.error as Error).message).toBe(
      `interrupted in stage toy at step 5/10: checkpoint saved in ${path.join(dir, 'checkpoints', 'toy')}; continue with: tagi base --resume --run-dir=${dir}`,
    );
    expect(readRunState(dir)?.stages['toy']).toMatchObject({ status: 'running', step: 5, checkpoints: 'checkpoints/toy' });
    const second = await train(dir, true, { initSeed: 999 }); // different init: everything comes from the checkpoint
    expect(second.error).toBeUndefined();
    expect(second.out).toMatch(/\[toy\] resuming at step 5\/10/);
    expect(second.weights).toEqual(expected);
    expect(steps(dir)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('falls back past a lost or damaged newest checkpoint, says so, and cuts metrics.jsonl back to it', async () => {
    for (const damage of ['lost', 'truncated'] as const) {
      const dir = path.join(base, damage);
      await train(dir, false, { stopAt: 4 }); // checkpoints at 3 (regular) and 5 (the stop); steps 1..5 logged
      const newest = path.join(dir, 'checkpoints', 'toy', 'step-000005');
      if (damage === 'lost')
        rmSync(newest, { recursive: true }); // a crash before the save completed
      else truncateSync(path.join(newest, 'state.safetensors'), statSync(path.join(newest, 'state.safetensors')).size - 9);
      const again = await train(dir, true);
      expect(again.error).toBeUndefined();
      expect(again.out).toMatch(/\[toy\] resuming at step 3\/10/);
      if (damage === 'truncated')
        expect(again.out).toMatch(/warning: .*step-000005\/state\.safetensors: sha256 mismatch.*resuming from the previous checkpoint .*step-000003/);
      expect(again.weights).toEqual(expected);
      expect(steps(dir)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(existsSync(path.join(dir, 'checkpoints'))).toBe(true); // the stage is not finished: the caller finishes it
    }
  });

  it('when no checkpoint is usable, the advice printed is a command that works', async () => {
    const dir = path.join(base, 'all-damaged');
    await train(dir, false, { stopAt: 1 }); // one checkpoint, at 2
    const ckpt = path.join(dir, 'checkpoints', 'toy', 'step-000002', 'checkpoint.json');
    writeFileSync(ckpt, '{"format": "tagi-checkpoint",');
    const r = await train(dir, true);
    expect(r.error).toBeInstanceOf(CliError);
    const msg = (r.error as Error).message;
    const advice = `rm -rf '${path.join(dir, 'checkpoints', 'toy')}' && tagi base --resume --run-dir=${dir}`;
    expect(msg).toContain(`${ckpt}: not valid JSON`);
    expect(msg).toContain(advice);
    // following it: the stage starts again from step 0 and ends where an uninterrupted run ends
    rmSync(path.join(dir, 'checkpoints', 'toy'), { recursive: true, force: true });
    const again = await train(dir, true);
    expect(again.error).toBeUndefined();
    expect(again.weights).toEqual(expected);
    expect(steps(dir)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('refuses to resume with an edited config, to start over an existing run, and a garbled trainer_state.json', async () => {
    const dir = path.join(base, 'guards');
    (await Run.open(invocation(dir, false), [])).close();
    // a resume may change learning rates (invocation.ts lets only those through), nothing else
    const edited = {
      ...invocation(dir, true),
      config: resolveConfig({
        preset: 'smoke',
        overrides: [
          ['checkpointEvery', '4'],
          ['logEvery', '1'],
          ['backend', 'cpu'],
        ],
      }),
    };
    await expect(Run.open(edited, [])).rejects.toThrow(
      /^--resume: checkpointEvery differ from .*config\.json; a resumed run keeps its config \(only learning rates and optim\.maxGradNorm may change\)$/,
    );
    // config.json edited on disk after the run started
    const saved = readFileSync(path.join(dir, 'config.json'), 'utf8');
    writeFileSync(path.join(dir, 'config.json'), saved.replace('"seed": 42', '"seed": 43'));
    await expect(Run.open(invocation(dir, true), [])).rejects.toThrow(/config hash .* does not match config\.json/);
    writeFileSync(path.join(dir, 'config.json'), saved);
    await expect(Run.open(invocation(dir, false), [])).rejects.toThrow(/already holds a run; continue it with --resume/);
    writeFileSync(path.join(dir, 'trainer_state.json'), '{"format": "tagi-run",');
    await expect(Run.open(invocation(dir, true), [])).rejects.toThrow(/trainer_state\.json: not valid JSON/);
    expect(readFileSync(path.join(dir, 'trainer_state.json'), 'utf8')).toBe('{"format": "tagi-run",'); // nothing overwritten
    expect(existsSync(path.join(dir, '.tagi.lock'))).toBe(false); // the lock was released on every path
  });

  it('trains in micro-batches when train.microBatchSize asks (the same update), and refuses it for a stage that cannot split', async () => {
    const run1 = async (micro: number | undefined, split: boolean) => {
      const inv = invocation(mkdtempSync(path.join(base, 'micro-')), false);
      const run = await Run.open(inv, []);
      const objective = toyObjective(3);
      const rows = (b: { x: tf.Tensor2D; y: tf.Tensor2D }, size: number) =>
        Array.from({ length: Math.ceil(b.x.shape[0] / size) }, (_, k) => {
          const n = Math.min(size, b.x.shape[0] - k * size);
          return { batch: { x: tf.slice(b.x, [k * size, 0], [n, -1]), y: tf.slice(b.y, [k * size, 0], [n, -1]) }, weight: n / b.x.shape[0] };
        });
      try {
        await trainStage(run, 'toy', split ? { ...objective, split: rows } : objective, {
          ...STEPS,
          ...(micro !== undefined ? { microBatchSize: micro } : {}),
        });
        return Array.from(objective.w.dataSync());
      } finally {
        run.close();
        objective.w.dispose();
      }
    };
    const whole = await run1(undefined, true);
    const parts = await run1(3, true);
    whole.forEach((w, i) => expect(Math.abs(w - (parts[i] as number))).toBeLessThan(1e-5));
    expect(whole.some((w, i) => Math.abs(w - (new Rng(3).normalArray(4)[i] as number)) > 1e-2)).toBe(true); // trained
    // a batch size the micro-batch covers is one pass (nothing to split)
    expect(await run1(8, false)).toEqual(whole.map((w) => expect.closeTo(w, 6)));
    await expect(run1(3, false)).rejects.toThrow(/micro-batch-size: stage toy trains its batch in one pass/);
  });

  it("train.recompute switches the stage's T5 to block recomputation for every update and back after it (also on a failure); a stage without a T5 refuses the key", async () => {
    const run1 = async (recompute: boolean | undefined, withModel: boolean, fail = false) => {
      const run = await Run.open(invocation(mkdtempSync(path.join(base, 'recompute-')), false), []);
      const calls: boolean[] = [];
      let on = false;
      const seenInLoss: boolean[] = [];
      const model = { setRecomputeBlocks: (x: boolean) => void calls.push((on = x)) };
      const objective = toyObjective(3);
      const loss = objective.loss;
      try {
        await trainStage(
          run,
          'toy',
          {
            ...objective,
            loss: (b, ctx) => {
              seenInLoss.push(on);
              if (fail && ctx.step === 2) throw new Error('boom');
              return loss(b, ctx);
            },
          },
          { ...STEPS, ...(recompute !== undefined ? { recompute } : {}) },
          withModel ? { model } : {},
        );
      } catch (e) {
        if (!fail) throw e;
      } finally {
        run.close();
        objective.w.dispose();
      }
      return { calls, seenInLoss, on };
    };
    const r = await run1(true, true);
    expect(r.seenInLoss).toHaveLength(STEPS.steps);
    expect(r.seenInLoss.every(Boolean)).toBe(true);
    expect(r.calls).toEqual([true, false]);
    const failed = await run1(true, true, true);
    expect(failed.on).toBe(false); // switched back though the stage threw
    const off = await run1(undefined, true);
    expect(off.calls).toEqual([]);
    expect(off.seenInLoss.some(Boolean)).toBe(false);
    await expect(run1(true, false)).rejects.toThrow(/recompute: stage toy runs no T5/);
  });

  it("fitStage, the driver a queue worker's teacher job uses too: micro-batches and recomputation as in trainStage, and a divergence ends with the host's error naming its resume command", async () => {
    const c = invocation(base, false).config;
    const store = (n: string) => new DirCheckpointStore(mkdtempSync(path.join(base, `fit-${n}-`)));
    const events: string[] = [];
    const host = (s: DirCheckpointStore): FitHost => ({
      store: s,
      signal: new AbortController().signal,
      resumeCommand: 'tagi teachers --resume --queue=redis://q',
      onDiverged: async (at) => void events.push(`diverged, resume at ${at}`),
      divergenceError: (m) => new RangeError(`job failed: ${m}`),
    });
    const toy = toyObjective(3);
    const rows = (b: { x: tf.Tensor2D; y: tf.Tensor2D }, size: number) =>
      [0, size].map((start) => ({ batch: { x: tf.slice(b.x, [start, 0], [size, -1]), y: tf.slice(b.y, [start, 0], [size, -1]) }, weight: 0.5 }));
    let on = false;
    const model = { setRecomputeBlocks: (x: boolean) => void (on = x) };
    const seen: boolean[] = [];
    const r = await fitStage(
      c,
      'toy',
      { ...toy, split: rows, loss: (b, ctx) => (seen.push(on && ctx.part !== undefined), toy.loss(b, ctx)) },
      { ...STEPS, microBatchSize: 4, recompute: true },
      host(store('ok')),
      model,
    );
    expect(r.step).toBe(STEPS.steps);
    expect(seen).toHaveLength(2 * STEPS.steps); // two parts an update, each with the blocks recomputed
    expect(seen.every(Boolean)).toBe(true);
    expect(on).toBe(false);
    toy.w.dispose();
    const bad = toyObjective(4);
    const diverging = {
      ...bad,
      loss: (b: { x: tf.Tensor2D; y: tf.Tensor2D }, ctx: { step: number; micro: number }) =>
        ctx.step === 2 ? { loss: tf.mul(bad.loss(b, ctx).loss, Number.NaN) as tf.Scalar } : bad.loss(b, ctx),
    };
    await expect(fitStage(c, 'toy', diverging, STEPS, host(store('nan')))).rejects.toThrow(
      /^job failed: stage toy diverged at update 3\/10.*a resume starts the stage again.*: tagi teachers --resume --queue=redis:\/\/q /,
    );
    expect(events).toEqual(['diverged, resume at 0']);
    bad.w.dispose();
  });
});
