import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeak } from '@tagi/tensor-core/testing';
import { loadAdapter, saveAdapter } from '@tagi/lora/node';
import { tinyT5, useCpu } from './__fixtures__/tiny.js';
import { HYPERNET_CONFIG_FILE } from './checkpoint.js';
import { HypernetCheckpointError } from './errors.js';
import { HyperNetwork } from './hypernet.js';
import { generateAdapter, generateWithTask } from './inference.js';
import { loadHypernet, saveHypernet } from './node.js';

let base: ReturnType<typeof tinyT5>;
let dir: string;
beforeAll(async () => {
  await useCpu();
  base = tinyT5();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hypernet-ckpt-'));
});
afterAll(async () => {
  base.dispose();
  await fs.rm(dir, { recursive: true, force: true });
});

const instruction = [12, 13, 14, 15, 1];

describe('checkpoints', () => {
  it('save → load regenerates identical adapters; the config names the base model and the settings', async () => {
    const hn = new HyperNetwork(
      base,
      { rank: 3, hiddenDim: 16, moduleEmbeddingDim: 8, pooling: 'queries', bHeadInitStd: 0.05 },
      { seed: 7, baseModelName: 'tiny-random' },
    );
    await saveHypernet(dir, hn);
    const json = JSON.parse(await fs.readFile(path.join(dir, HYPERNET_CONFIG_FILE), 'utf8'));
    expect(json.base_model.name).toBe('tiny-random');
    expect(json.base_model.shape.d_model).toBe(32);
    expect(json.hypernet).toMatchObject({ rank: 3, pooling: 'queries', fusion: 'concat', encoder: 'base' });
    const loaded = await loadHypernet(dir, base);
    const a = generateAdapter(hn, instruction);
    const b = generateAdapter(loaded, instruction);
    for (const p of a.adapter.paths) {
      const fa = a.adapter.factorsOf(p)!;
      const fb = b.adapter.factorsOf(p)!;
      expect(Array.from(fb.A.dataSync())).toEqual(Array.from(fa.A.dataSync()));
      expect(Array.from(fb.B.dataSync())).toEqual(Array.from(fa.B.dataSync()));
    }
    a.dispose();
    b.dispose();
    hn.dispose();
    loaded.dispose();
  });

  it('refuses a base model of another shape, or with other weights, naming what differs', async () => {
    const other = tinyT5(1, { dFf: 40 });
    await expect(loadHypernet(dir, other)).rejects.toThrow(/different base model[\s\S]*d_ff \(checkpoint 48, model 40\)/);
    other.dispose();
    const reseeded = tinyT5(2);
    await expect(loadHypernet(dir, reseeded)).rejects.toThrow(HypernetCheckpointError);
    await expect(loadHypernet(dir, reseeded)).rejects.toThrow(/other weights/);
    const forced = await loadHypernet(dir, reseeded, { allowDifferentBaseWeights: true });
    forced.dispose();
    reseeded.dispose();
    await expect(loadHypernet(path.join(dir, 'missing'), base)).rejects.toThrow(/hypernet_config.json: cannot read/);
  });
});

describe('inference with a generated adapter', () => {
  it('exports a peft dir whose adapter gives the same logits, and merging gives plain-cost inference with the same outputs', async () => {
    const hn = new HyperNetwork(base, { rank: 2, hiddenDim: 16, moduleEmbeddingDim: 8, fusion: 'none', bHeadInitStd: 0.05 });
    const task = generateAdapter(hn, instruction);
    const peftDir = path.join(dir, 'peft');
    await saveAdapter(peftDir, task.adapter);
    const files = (await fs.readdir(peftDir)).sort();
    expect(files).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const reloaded = await loadAdapter(peftDir);
    expectNoLeak(() =>
      tf.tidy(() => {
        const ids = tf.tensor2d([[3, 4, 5, 1]], undefined, 'int32');
        const labels = tf.tensor2d([[6, 7, 1]], undefined, 'int32');
        const plain = base.forward({ inputIds: ids, labels }).logits;
        const viaGenerated = base.forward({ inputIds: ids, labels, adapters: task.adapter.deltas }).logits;
        const viaPeft = base.forward({ inputIds: ids, labels, adapters: reloaded.deltas }).logits;
        expect(tf.max(tf.abs(tf.sub(viaGenerated, plain))).dataSync()[0]).toBeGreaterThan(1e-3);
        expect(tf.max(tf.abs(tf.sub(viaPeft, viaGenerated))).dataSync()[0]).toBeLessThan(1e-5);
        task.adapter.merge(base);
        const merged = base.forward({ inputIds: ids, labels }).logits;
        task.adapter.unmerge(base);
        expect(tf.max(tf.abs(tf.sub(merged, viaGenerated))).dataSync()[0]).toBeLessThan(1e-4);
      }),
    );
    const seqs = await generateWithTask(
      hn,
      task,
      [
        [3, 4, 5, 1],
        [6, 1],
      ],
      { maxNewTokens: 4 },
    );
    expect(seqs).toHaveLength(2);
    reloaded.dispose();
    task.dispose();
    hn.dispose();
  });
});
