// `fusion: 'cross-attention'`: per-layer encoder cross-attention over the encoded instruction (the paper's
// fusion), through t5-model's encoder layer hook. Identity at init (o = 0), trained by the loops, saved and
// loaded with the hypernetwork, and used by generateWithTask.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamW, Rng, fit } from '@tagi/tensor-core';
import { int2d, expectNoLeak } from '@tagi/tensor-core/testing';
import { tinyT5, useCpu } from './__fixtures__/tiny.js';
import { padIds, padLabels } from './batching.js';
import { HYPERNET_CONFIG_FILE } from './checkpoint.js';
import { HypernetConfigError } from './errors.js';
import { HyperNetwork, disposeEncoding, fusionHook } from './hypernet.js';
import { generateAdapter, generateWithTask } from './inference.js';
import { loadHypernet, saveHypernet } from './node.js';
import { type FinetuneTask, finetuneObjective, pretrainObjective, studentLoss } from './training.js';

let base: ReturnType<typeof tinyT5>;
let dir: string;
beforeAll(async () => {
  await useCpu();
  base = tinyT5();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hypernet-xattn-'));
});
afterAll(async () => {
  base.dispose();
  await fs.rm(dir, { recursive: true, force: true });
});

const cfg = { rank: 2, hiddenDim: 16, moduleEmbeddingDim: 8, fusion: 'cross-attention' as const };
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
const fusionParams = (hn: HyperNetwork) => new Map([...hn.namedParameters()].filter(([k]) => k.startsWith('fusion_layers.')));

/** Gives every fusion `o` random values (at init it is zero, which hides q/k/v and any save/load mistake). */
function randomiseO(hn: HyperNetwork, seed: number): void {
  const rng = new Rng(seed);
  for (const [k, p] of fusionParams(hn)) {
    if (!k.endsWith('.o.weight')) continue;
    const data = Float32Array.from({ length: p.size }, () => rng.normal() * 0.3);
    tf.tidy(() => p.assign(tf.tensor(data, p.shape)));
  }
}

/** Student CE with the hook (adapter from the hypernetwork, instruction fused per layer). */
function studentCe(hn: HyperNetwork, instr: number[][], inputs: number[][], labelRows: number[][]): tf.Scalar {
  return tf.tidy(() => {
    const i = padIds(instr, 0);
    const enc = hn.encodeInstructions(i.ids, i.mask);
    const x = padIds(inputs, 0);
    const labels = padLabels(labelRows);
    const out = base.forward({ inputIds: x.ids, attentionMask: x.mask, labels, adapters: hn.generate(enc), encoderLayerHook: fusionHook(hn, enc) });
    return out.loss as tf.Scalar;
  });
}

describe("fusion 'cross-attention'", () => {
  it('is accepted by the config; unknown fusions are a HypernetConfigError listing the three kinds', () => {
    expect(() => new HyperNetwork(base, { ...cfg, fusion: 'film' as never })).toThrow(HypernetConfigError);
    expect(() => new HyperNetwork(base, { ...cfg, fusion: 'film' as never })).toThrow(/fusion: expected one of concat, none, cross-attention, got "film"/);
    const hn = new HyperNetwork(base, cfg);
    const names = [...fusionParams(hn).keys()].sort();
    expect(names).toEqual([0, 1].flatMap((i) => ['k', 'layer_norm', 'o', 'q', 'v'].map((m) => `fusion_layers.${i}.${m}.weight`)).sort());
    expect(fusionParams(hn).get('fusion_layers.0.q.weight')?.shape).toEqual([32, 32]); // [heads·dKv, dModel]
    expect(hn.fusion_layers?.length).toBe(base.config.numLayers);
    hn.dispose();
    const concat = new HyperNetwork(base, { ...cfg, fusion: 'concat' });
    expect(fusionParams(concat).size).toBe(0);
    concat.dispose();
  });

  it('at initialisation the student equals the base exactly (o = 0, B = 0); with o ≠ 0 the instruction changes the logits', () => {
    const hn = new HyperNetwork(base, cfg);
    expectNoLeak(() =>
      tf.tidy(() => {
        const instr = padIds([[20, 21, 22, 1]], 0);
        const enc = hn.encodeInstructions(instr.ids, instr.mask);
        expect(hn.fusionPrefix(enc, 2)).toBeUndefined();
        const x = padIds(
          [
            [3, 4, 5, 1],
            [6, 1],
          ],
          0,
        );
        const labels = int2d([
          [7, 8, 1],
          [9, 1, -100],
        ]);
        const plain = base.forward({ inputIds: x.ids, attentionMask: x.mask, labels });
        const student = base.forward({
          inputIds: x.ids,
          attentionMask: x.mask,
          labels,
          adapters: hn.generate(enc, { shared: true }),
          encoderLayerHook: fusionHook(hn, enc),
        });
        expect(maxAbsDiff(student.logits, plain.logits)).toBe(0);
        randomiseO(hn, 1);
        const fused = base.forward({ inputIds: x.ids, attentionMask: x.mask, labels, encoderLayerHook: fusionHook(hn, enc) });
        expect(maxAbsDiff(fused.logits, plain.logits)).toBeGreaterThan(1e-3);
        // another instruction gives other logits (the block reads the instruction states)
        const other = padIds([[30, 31, 1]], 0);
        const enc2 = hn.encodeInstructions(other.ids, other.mask);
        const fused2 = base.forward({ inputIds: x.ids, attentionMask: x.mask, labels, encoderLayerHook: fusionHook(hn, enc2) });
        expect(maxAbsDiff(fused2.logits, fused.logits)).toBeGreaterThan(1e-4);
        disposeEncoding(enc);
        disposeEncoding(enc2);
      }),
    );
    hn.dispose();
  });

  it('padding of the instruction is masked out: extra pad tokens change nothing', () => {
    const hn = new HyperNetwork(base, cfg);
    randomiseO(hn, 2);
    tf.tidy(() => {
      const x = padIds([[3, 4, 5, 1]], 0);
      const labels = int2d([[7, 8, 1]]);
      const run = (ids: number[][], mask: number[][]) => {
        const enc = hn.encodeInstructions(tf.tensor2d(ids, undefined, 'int32'), tf.tensor2d(mask, undefined, 'int32'));
        return base.forward({ inputIds: x.ids, attentionMask: x.mask, labels, encoderLayerHook: fusionHook(hn, enc) }).logits;
      };
      const short = run([[20, 21, 1]], [[1, 1, 1]]);
      const padded = run([[20, 21, 1, 0, 0]], [[1, 1, 1, 0, 0]]);
      expect(maxAbsDiff(short, padded)).toBeLessThan(1e-5);
    });
    hn.dispose();
  });

  it('gradients reach every fusion parameter and match finite differences', () => {
    const hn = new HyperNetwork(base, cfg);
    randomiseO(hn, 3);
    const instr = [
      [20, 21, 22, 1],
      [23, 24, 1],
    ];
    const inputs = [
      [3, 4, 5, 1],
      [6, 7, 1],
    ];
    const lab = [
      [7, 8, 1],
      [9, 1],
    ];
    const params = fusionParams(hn);
    const { value, grads } = tf.variableGrads(() => studentCe(hn, instr, inputs, lab), [...params.values()]);
    value.dispose();
    for (const [k, p] of params) {
      const g = grads[p.name] as tf.Tensor;
      const norm = tf.tidy(() => tf.norm(g).dataSync()[0] as number);
      expect(Number.isFinite(norm), k).toBe(true);
      expect(norm, k).toBeGreaterThan(0);
    }
    // central difference on the largest-gradient entries of one q and one o weight
    for (const key of ['fusion_layers.0.q.weight', 'fusion_layers.1.o.weight']) {
      const p = params.get(key) as tf.Variable;
      const g = (grads[p.name] as tf.Tensor).dataSync();
      let j = 0;
      for (let i = 1; i < g.length; i++) if (Math.abs(g[i] as number) > Math.abs(g[j] as number)) j = i;
      const orig = p.dataSync().slice();
      const eps = 1e-2;
      const lossAt = (delta: number): number => {
        const d = orig.slice();
        d[j] = (d[j] as number) + delta;
        tf.tidy(() => p.assign(tf.tensor(d, p.shape)));
        return tf.tidy(() => studentCe(hn, instr, inputs, lab).dataSync()[0] as number);
      };
      const fd = (lossAt(eps) - lossAt(-eps)) / (2 * eps);
      lossAt(0);
      expect(Math.abs(fd - (g[j] as number)), key).toBeLessThan(0.05 * Math.abs(g[j] as number) + 1e-4);
    }
    tf.dispose(Object.values(grads));
    hn.dispose();
  });

  it('finetuning the fusion blocks alone lowers the student loss; pretraining (one instruction per example) trains them too', async () => {
    const hn = new HyperNetwork(base, cfg);
    const fusion = fusionParams(hn);
    // only the fusion parameters are trained (fit differentiates `params` alone): the decrease is the fusion's doing
    const adam = new AdamW(fusion, { lr: 1e-2, weightDecay: 0 });
    const tasks: FinetuneTask[] = ['a', 'b'].map((taskId, i) => ({
      taskId,
      instructionIds: [20 + i, 21, 22 + i, 1],
      examples: [0, 1, 2, 3].map((j) => ({ id: `${taskId}${j}`, inputIds: [3 + j, 4, 1], labelIds: [30 + 5 * i + j, 1] })),
    }));
    const before = studentLoss(hn, tasks);
    const tensors = tf.memory().numTensors;
    const ft = finetuneObjective({ hypernet: hn, tasks, batchSize: 4, loss: { lambdaKl: 0 } });
    await fit({ ...ft, params: fusion, name: 'finetune-fusion', optimizer: adam, steps: 20 });
    ft.dispose();
    expect(tf.memory().numTensors).toBe(tensors + fusion.size * 2); // only Adam's moments were added
    const after = studentLoss(hn, tasks);
    expect(after).toBeLessThan(before - 0.1);
    const o = fusion.get('fusion_layers.0.o.weight') as tf.Variable;
    const oBefore = tf.tidy(() => tf.max(tf.abs(o)).dataSync()[0] as number);
    expect(oBefore).toBeGreaterThan(0);
    const docs = [Array.from({ length: 30 }, (_, i) => 2 + ((i * 7) % 60)), Array.from({ length: 30 }, (_, i) => 2 + ((i * 5) % 60))];
    const snapshot = tf.tidy(() => tf.clone(o));
    const pre = pretrainObjective({ hypernet: hn, documents: docs, split: { instruction: [4, 6], input: [4, 6], target: [3, 5] }, batchSize: 2 });
    await fit({ ...pre, params: fusion, name: 'pretrain-fusion', optimizer: adam, steps: 1 });
    expect(maxAbsDiff(snapshot, o)).toBeGreaterThan(0);
    snapshot.dispose();
    adam.dispose();
    hn.dispose();
  });

  it('save → load restores the fusion blocks; generateWithTask uses them and equals the argmax path of forward with the hook', async () => {
    const hn = new HyperNetwork(base, { ...cfg, bHeadInitStd: 0.05 }, { seed: 4 });
    randomiseO(hn, 5);
    const out = path.join(dir, 'xattn');
    await saveHypernet(out, hn);
    const json = JSON.parse(await fs.readFile(path.join(out, HYPERNET_CONFIG_FILE), 'utf8')) as { hypernet: { fusion: string } };
    expect(json.hypernet.fusion).toBe('cross-attention');
    const loaded = await loadHypernet(out, base);
    expect(loaded.config.fusion).toBe('cross-attention');
    for (const [k, p] of fusionParams(hn)) expect(maxAbsDiff(p, fusionParams(loaded).get(k) as tf.Variable), k).toBe(0);

    const instruction = [20, 21, 22, 23, 1];
    const inputs = [
      [3, 4, 5, 1],
      [6, 1],
    ];
    const steps = 4;
    const before = tf.memory().numTensors;
    const task = generateAdapter(loaded, instruction);
    const gen = await generateWithTask(loaded, task, inputs, { maxNewTokens: steps, eosTokenId: -1 });
    const original = generateAdapter(hn, instruction);
    const genOriginal = await generateWithTask(hn, original, inputs, { maxNewTokens: steps, eosTokenId: -1 });
    original.dispose();
    expect(genOriginal).toEqual(gen);
    // the same greedy path by repeated full forward passes with the hook
    const rows = inputs.map(() => [base.config.decoderStartTokenId]);
    tf.tidy(() => {
      const x = padIds(inputs, 0);
      const hook = fusionHook(loaded, task.instruction!);
      for (let t = 0; t < steps; t++) {
        const next = tf.tidy(() => {
          const dec = tf.tensor2d(rows, undefined, 'int32');
          const { logits } = base.forward({
            inputIds: x.ids,
            attentionMask: x.mask,
            decoderInputIds: dec,
            adapters: task.adapter.deltas,
            encoderLayerHook: hook,
          });
          return tf.argMax(tf.squeeze(tf.slice(logits, [0, t, 0], [-1, 1, -1]), [1]), -1).arraySync() as number[];
        });
        next.forEach((n, r) => rows[r]?.push(n));
      }
    });
    expect(gen).toEqual(rows);
    task.dispose();
    expect(tf.memory().numTensors).toBe(before); // generation with the hook is leak-free
    hn.dispose();
    loaded.dispose();
  });
});
