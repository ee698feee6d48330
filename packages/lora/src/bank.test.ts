// A bank of adapters: each group starts as its own peft-initialised adapter, each example runs with its
// own group's factors (the same logits as that group's adapter alone), only a group's own examples reach
// its factors' gradient, and training the bank fits every group. Invariants, no reference run needed.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { AdamW, type DeltaMap, Rng, fit } from '@tagi/tensor-core';
import { expectClose, expectNoLeak, testBackends, useBackend } from '@tagi/tensor-core/testing';
import { createRandomT5, makeT5Config } from '@tagi/t5-model';
import { AdapterSet } from './adapter-set.js';
import { AdapterBank, type GroupedExample, loraBankObjective } from './bank.js';
import { loraConfig } from './config.js';
import { peftKey } from './targets.js';
import { collate, disposeBatch } from './teacher.js';

const model = () =>
  createRandomT5(
    makeT5Config({
      vocabSize: 40,
      dModel: 16,
      dKv: 4,
      numHeads: 4,
      dFf: 32,
      numLayers: 1,
      numDecoderLayers: 1,
      feedForwardProj: 'gated-gelu',
      tieWordEmbeddings: false,
      dropoutRate: 0,
    }),
    3,
  ).freezeBase();
const config = loraConfig({ r: 2, loraAlpha: 4, targetModules: ['q', 'v', 'wo'] });

/** Three groups whose targets are different functions of the same kind of input. */
function examples(n: number): GroupedExample[] {
  const rng = new Rng(5);
  return Array.from({ length: n }, (_, i) => {
    const group = i % 3;
    const input = [2 + Math.floor(rng.next() * 30), 2 + Math.floor(rng.next() * 30), 1];
    return { group, input, target: [group === 0 ? (input[0] as number) : group === 1 ? (input[1] as number) : 33, 1] };
  });
}

describe('AdapterBank', () => {
  it("starts every group as AdapterSet.create with that group's own stream (by name), B = 0", async () => {
    await useBackend('cpu');
    const m = model();
    const bank = AdapterBank.create(m, config, 3, { seed: 7, names: ['a', 'b', 'c'] });
    for (const [g, name] of ['a', 'b', 'c'].entries()) {
      const alone = AdapterSet.create(m, config, { rng: new Rng(7).fork(name) });
      const fromBank = bank.adapter(g);
      for (const p of alone.paths) {
        expect(Array.from(fromBank.factorsOf(p)!.A.dataSync()), `${name} ${p} A`).toEqual(Array.from(alone.factorsOf(p)!.A.dataSync()));
        expect(Array.from(fromBank.factorsOf(p)!.B.dataSync()).every((x) => x === 0)).toBe(true);
      }
      alone.dispose();
      fromBank.dispose();
    }
    expect(() => AdapterBank.create(m, config, 2, { names: ['a', 'a'] })).toThrow('names must be 2 distinct strings');
    bank.dispose();
  });

  // on every test backend: tfjs-node takes other product kernels and may merge a shared delta into W
  it.each(testBackends())("runs each example with its own group's adapter: the logits of that adapter alone, leak-free (%s)", async (backend) => {
    await useBackend(backend);
    const m = model();
    const bank = AdapterBank.create(m, config, 3, { seed: 1 });
    // move every factor off its initialisation so the groups differ
    for (const v of bank.namedVariables().values()) v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', 9));
    const ex = examples(6);
    const groups = ex.map((e) => e.group);
    expectNoLeak(() => {
      const b = collate(ex, 0);
      const mixed = tf.tidy(() => m.forward({ inputIds: b.inputIds, attentionMask: b.attentionMask, labels: b.labels, adapters: bank.select(groups) }).logits);
      for (let i = 0; i < ex.length; i++) {
        const one = collate([ex[i]!], 0);
        const a = bank.adapter(groups[i]!);
        const alone = tf.tidy(() => m.forward({ inputIds: one.inputIds, attentionMask: one.attentionMask, labels: one.labels, adapters: a.deltas }).logits);
        const row = tf.slice(mixed, [i, 0, 0], [1, -1, -1]);
        expectClose(row, alone, { atol: 1e-5, rtol: 0, label: `example ${i} (group ${groups[i]})` });
        tf.dispose([alone, row]);
        a.dispose();
        disposeBatch(one);
      }
      mixed.dispose();
      disposeBatch(b);
    });
    expect(() => bank.select([0, 3])).toThrow('group 3 is outside [0, 3)');
    bank.dispose();
  });

  it.each(testBackends())("sends a batch's gradient only to the groups of its examples (%s)", async (backend) => {
    await useBackend(backend);
    const m = model();
    const bank = AdapterBank.create(m, config, 3, { seed: 2 });
    const ex = examples(6).filter((e) => e.group !== 1); // no example of group 1
    const b = collate(ex, 0);
    const vars = [...bank.namedVariables().values()];
    const { value, grads } = tf.variableGrads(
      () =>
        m.forward({ inputIds: b.inputIds, attentionMask: b.attentionMask, labels: b.labels, adapters: bank.select(ex.map((e) => e.group)) }).loss as tf.Scalar,
      vars,
    );
    let present = 0;
    for (const v of vars) {
      const g = grads[v.name]!;
      const perGroup = tf.tidy(() => tf.sum(tf.abs(g), [1, 2]).arraySync() as number[]);
      expect(perGroup[1], `${v.name}: group 1 has no example`).toBe(0);
      present += (perGroup[0] ?? 0) + (perGroup[2] ?? 0);
    }
    expect(present).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads)]);
    disposeBatch(b);
    bank.dispose();
  });

  it.each(testBackends())(
    "a batch sorted into equal groups may take the bank's stacked factors as per-group deltas: the same logits as select (%s)",
    async (backend) => {
      await useBackend(backend);
      const m = model();
      const bank = AdapterBank.create(m, config, 3, { seed: 4 });
      for (const v of bank.namedVariables().values()) v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', 11));
      const ex = [...examples(9)].sort((a, b) => a.group - b.group); // groups 0,0,0,1,1,1,2,2,2
      const vars = bank.namedVariables();
      expectNoLeak(() => {
        const b = collate(ex, 0);
        const run = (adapters: () => DeltaMap) =>
          tf.tidy(() => m.forward({ inputIds: b.inputIds, attentionMask: b.attentionMask, labels: b.labels, adapters: adapters() }).logits);
        const perExample = run(() => bank.select(ex.map((e) => e.group))); // [9, r, in] per module
        const grouped = run(() => new Map(bank.paths.map((p) => [p, { A: vars.get(peftKey(p, 'A'))!, B: vars.get(peftKey(p, 'B'))!, scaling: bank.scaling }]))); // [3, r, in]
        expectClose(grouped, perExample, { atol: 1e-5, rtol: 0, label: 'per-group vs per-example' });
        tf.dispose([perExample, grouped]);
        disposeBatch(b);
      });
      bank.dispose();
    },
  );

  it('loraBankObjective fits three different rules at once with one run; refuses bad groups and dropout', async () => {
    await useBackend('cpu');
    const m = model();
    const ex = examples(36);
    const objective = loraBankObjective({ model: m, examples: ex, groups: 3, padId: 0, config, batchSize: 12, seed: 3 });
    const losses: number[] = [];
    await fit({ ...objective, name: 'bank', optimizer: new AdamW(objective.params, { lr: 3e-2 }), steps: 120, onStep: (r) => void losses.push(r.loss) });
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 10);
    // each group's adapter alone answers its own rule on its training inputs (greedy first target token)
    for (const g of [0, 1, 2]) {
      const mine = ex.filter((e) => e.group === g);
      const a = objective.bank.adapter(g);
      const b = collate(mine, 0);
      const logits = m.forward({ inputIds: b.inputIds, attentionMask: b.attentionMask, labels: b.labels, adapters: a.deltas }).logits;
      const first = tf.tidy(() => tf.squeeze(tf.slice(tf.argMax(logits, -1), [0, 0], [-1, 1]), [1]).arraySync() as number[]);
      const right = first.filter((t, i) => t === mine[i]!.target[0]).length;
      expect(right / mine.length, `group ${g}`).toBeGreaterThan(0.9);
      tf.dispose([logits]);
      disposeBatch(b);
      a.dispose();
    }
    objective.bank.dispose();
    expect(() => loraBankObjective({ model: m, examples: ex, groups: 4, padId: 0, config })).toThrow('group 3 has no example');
    expect(() => loraBankObjective({ model: m, examples: ex, groups: 3, padId: 0, config: loraConfig({ r: 2, loraDropout: 0.1 }) })).toThrow(
      'lora_dropout must be 0 in a bank',
    );
  });
});
