// The training loop's checkpoint/resume contract on a small model with optimiser state: an interrupted
// and resumed run ends with exactly the weights of an uninterrupted one; a damaged checkpoint is refused
// before anything is written.
import { existsSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@tagi/tensor-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';
import { CheckpointError, InterruptedError } from './errors.js';
import { readMetrics } from './metrics.js';
import { type Trainable, openRun, train } from './run.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** Linear regression with SGD + momentum; batches and noise derived from (seed, step) only. */
function toyTrainable(totalSteps: number, seed: number, onStep?: (s: number) => void): Trainable & { weights(): Float32Array } {
  const init = new Rng(seed).fork('init');
  const w = tf.variable(tf.tensor1d(Array.from({ length: 4 }, () => init.normal())));
  const m = tf.variable(tf.zeros([4]));
  let rngState = new Rng(seed).fork('data').state();
  const target = tf.tensor1d([1, -2, 0.5, 3]);
  return {
    stage: 'toy',
    totalSteps,
    stateTensors: () => new Map<string, tf.Tensor>([['param/w', w], ['optim/m', m]]),
    stateMeta: () => ({ rng: rngState }),
    restore(tensors, meta) {
      w.assign(tensors.get('param/w') as tf.Tensor1D);
      m.assign(tensors.get('optim/m') as tf.Tensor1D);
      rngState = meta['rng'] as typeof rngState;
    },
    async step(s) {
      const rng = Rng.fromState(rngState);
      const xs = Array.from({ length: 8 * 4 }, () => rng.normal());
      rngState = rng.state();
      const loss = tf.tidy(() => {
        const x = tf.tensor2d(xs, [8, 4]);
        const y = tf.matMul(x, tf.reshape(target, [4, 1]));
        const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(tf.matMul(x, tf.reshape(w, [4, 1])), y))) as tf.Scalar, [w]);
        m.assign(tf.add(tf.mul(m, 0.9), grads[w.name] as tf.Tensor));
        w.assign(tf.sub(w, tf.mul(m, 0.05)));
        return value.dataSync()[0] as number;
      });
      onStep?.(s);
      return { losses: { loss }, tokens: 32, lr: 0.05 };
    },
    weights: () => w.dataSync() as Float32Array,
  };
}

function smokeConfig(checkpointEvery: number) {
  return resolveConfig({ preset: 'smoke', overrides: [['checkpointEvery', String(checkpointEvery)], ['logEvery', '1'], ['backend', 'cpu']] });
}

const sink = { write: () => true, isTTY: false };

function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(path.relative(dir, p), readFileSync(p).toString('base64'));
    }
  };
  walk(dir);
  return out;
}

describe('train loop', () => {
  it('resumes exactly: interrupted + resumed weights equal an uninterrupted run', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'tagi-loop-'));
    const config = smokeConfig(3);

    const full = toyTrainable(10, 5);
    const ctxA = await openRun({ config, runDir: path.join(base, 'a'), resume: false, out: sink });
    await train(ctxA, full);
    const expected = Array.from(full.weights());

    const controller = new AbortController();
    const first = toyTrainable(10, 5, (s) => {
      if (s === 4) controller.abort(); // Ctrl-C during step 5
    });
    const runB = path.join(base, 'b');
    const ctxB = await openRun({ config, runDir: runB, resume: false, out: sink, signal: controller.signal });
    await expect(train(ctxB, first)).rejects.toBeInstanceOf(InterruptedError);
    const state = JSON.parse(readFileSync(path.join(runB, 'trainer_state.json'), 'utf8'));
    expect(state.stages.toy).toMatchObject({ status: 'running', step: 5 });
    // only the latest checkpoint is kept
    expect(readdirSync(path.join(runB, 'checkpoints', 'toy'))).toEqual(['step-000005']);

    const resumed = toyTrainable(10, 999); // different init: everything must come from the checkpoint
    const ctxB2 = await openRun({ config, runDir: runB, resume: true, out: sink });
    await train(ctxB2, resumed);
    expect(Array.from(resumed.weights())).toEqual(expected);

    const steps = readMetrics(path.join(runB, 'metrics.jsonl')).filter((e) => e.event === undefined).map((e) => e.step);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('refuses a corrupt checkpoint and leaves the run dir untouched', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'tagi-loop-'));
    const config = smokeConfig(2);
    const controller = new AbortController();
    const t = toyTrainable(6, 1, (s) => {
      if (s === 2) controller.abort();
    });
    const ctx = await openRun({ config, runDir: base, resume: false, out: sink, signal: controller.signal });
    await expect(train(ctx, t)).rejects.toBeInstanceOf(InterruptedError);
    const file = path.join(base, 'checkpoints', 'toy', 'step-000003', 'state.safetensors');
    expect(existsSync(file)).toBe(true);
    truncateSync(file, statSync(file).size - 7);
    const before = snapshot(base);
    const ctx2 = await openRun({ config, runDir: base, resume: true, out: sink });
    const err = await train(ctx2, toyTrainable(6, 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(/state\.safetensors: sha256 mismatch/);
    expect(snapshot(base)).toEqual(before);

    // a garbled trainer_state.json is refused too
    writeFileSync(path.join(base, 'trainer_state.json'), '{"version": 1,');
    await expect(openRun({ config, runDir: base, resume: true, out: sink })).rejects.toThrow(/trainer_state\.json: not valid JSON/);
  });

  it('refuses to resume with an edited config, and to start over an existing run', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'tagi-loop-'));
    await openRun({ config: smokeConfig(2), runDir: base, resume: false, out: sink });
    await expect(openRun({ config: smokeConfig(3), runDir: base, resume: true, out: sink })).rejects.toThrow(/config hash/);
    await expect(openRun({ config: smokeConfig(2), runDir: base, resume: false, out: sink })).rejects.toThrow(/already holds a run/);
  });
});
