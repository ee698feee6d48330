import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, DirCheckpointStore } from './checkpoints.js';
import { fit } from './fit.js';
import { AdamW } from './optim.js';
import { useBackend } from './testing.js';

let root: string;
beforeAll(async () => {
  await useBackend('cpu');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'tagi-ckpt-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const checkpoint = (step: number, value: number) => ({
  step,
  totalSteps: 10,
  tensors: new Map([['param.w', tf.fill([2, 2], value)]]),
  meta: { optimizer: { kind: 'adamw', step } },
});

async function saved(store: DirCheckpointStore, step: number, value: number): Promise<void> {
  const c = checkpoint(step, value);
  await store.save(c);
  tf.dispose([...c.tensors.values()]);
}

describe('DirCheckpointStore', () => {
  it('removes the checkpoint of a step, so load falls back to the previous one (a missing step is no error)', async () => {
    const store = new DirCheckpointStore(path.join(root, 'removal'), { keep: 2 });
    for (const s of [2, 4]) await saved(store, s, s);
    await store.remove(4);
    await store.remove(6);
    expect((await store.list()).map((c) => c.step)).toEqual([2]);
    const c = await store.load();
    expect(c?.step).toBe(2);
    tf.dispose([...(c?.tensors.values() ?? [])]);
  });

  it('round-trips a checkpoint and keeps only the newest `keep` of them', async () => {
    const store = new DirCheckpointStore(path.join(root, 'a'), { keep: 2 });
    expect(await store.load()).toBeUndefined();
    for (const s of [1, 2, 3]) await saved(store, s, s);
    expect((await store.list()).map((c) => c.step)).toEqual([3, 2]);
    const c = await store.load();
    expect(c?.step).toBe(3);
    expect(Array.from((c?.tensors.get('param.w') as tf.Tensor).dataSync())).toEqual([3, 3, 3, 3]);
    expect(c?.meta).toEqual({ optimizer: { kind: 'adamw', step: 3 } });
    tf.dispose([...(c?.tensors.values() ?? [])]);
    // no temporary directory is left behind
    expect((await fs.readdir(store.dir)).sort()).toEqual(['step-000002', 'step-000003']);
  });

  it('falls back to the previous checkpoint when the newest is damaged, and says so', async () => {
    const warnings: string[] = [];
    const store = new DirCheckpointStore(path.join(root, 'b'), { onWarning: (m) => warnings.push(m) });
    await saved(store, 4, 4);
    await saved(store, 8, 8);
    const state = path.join(store.dir, 'step-000008', 'state.safetensors');
    const bytes = await fs.readFile(state);
    await fs.writeFile(state, bytes.subarray(0, bytes.length - 5)); // truncated
    const c = await store.load();
    expect(c?.step).toBe(4);
    tf.dispose([...(c?.tensors.values() ?? [])]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('step-000008/state.safetensors: sha256 mismatch');
    expect(warnings[0]).toContain('resuming from the previous checkpoint');
  });

  it('gives advice that works when no checkpoint is usable', async () => {
    const store = new DirCheckpointStore(path.join(root, 'c'));
    await saved(store, 5, 5);
    await fs.rm(path.join(store.dir, 'step-000005', 'checkpoint.json'));
    const err = await store.load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).file).toBe(path.join(store.dir, 'step-000005', 'checkpoint.json'));
    expect((err as CheckpointError).advice).toBe(`to restart this stage from its beginning: rm -rf '${store.dir}'`);
    // following the advice works: the store is empty and a run starts from step 0
    await fs.rm(store.dir, { recursive: true, force: true });
    expect(await store.load()).toBeUndefined();
  });

  it('refuses an edited checkpoint.json and a newer format version', async () => {
    const store = new DirCheckpointStore(path.join(root, 'd'), { keep: 1 });
    await saved(store, 1, 1);
    const metaFile = path.join(store.dir, 'step-000001', 'checkpoint.json');
    const meta = JSON.parse(await fs.readFile(metaFile, 'utf8')) as Record<string, unknown>;
    await fs.writeFile(metaFile, JSON.stringify({ ...meta, version: 99 }));
    await expect(store.read(path.join(store.dir, 'step-000001'))).rejects.toThrow('format version 99 is newer');
    await fs.writeFile(metaFile, '{"format": "tagi-checkpoint", "step": 1');
    await expect(store.read(path.join(store.dir, 'step-000001'))).rejects.toThrow('checkpoint.json: not valid JSON');
  });

  it('serves fit: a run stopped and resumed through files ends where an uninterrupted one does', async () => {
    const make = () => new Map([['w', tf.variable(tf.tensor1d([1, -2, 3]))]]);
    const target = tf.tensor1d([0.5, 0.5, 0.5]);
    const opts = (p: Map<string, tf.Variable>) => ({
      name: 'toy',
      params: p,
      steps: 6,
      batch: () => target,
      loss: (t: tf.Tensor) => ({ loss: tf.sum(tf.square(tf.sub(p.get('w') as tf.Variable, t))) as tf.Scalar }),
    });
    const ref = make();
    const refOpt = new AdamW(ref, { lr: 0.1 });
    await fit({ ...opts(ref), optimizer: refOpt });
    const stop = new AbortController();
    const store = new DirCheckpointStore(path.join(root, 'e'));
    const a = make();
    const aOpt = new AdamW(a, { lr: 0.1 });
    await fit({ ...opts(a), optimizer: aOpt, checkpoints: store, signal: stop.signal, onStep: (r) => void (r.step === 2 && stop.abort()) });
    const b = make();
    const bOpt = new AdamW(b, { lr: 0.1 });
    const r = await fit({ ...opts(b), optimizer: bOpt, checkpoints: store });
    expect(r.resumedFrom).toBe(2);
    expect(Array.from((b.get('w') as tf.Variable).dataSync())).toEqual(Array.from((ref.get('w') as tf.Variable).dataSync()));
    tf.dispose([target, ...ref.values(), ...a.values(), ...b.values()]);
    for (const o of [refOpt, aOpt, bOpt]) o.dispose();
  });
});
