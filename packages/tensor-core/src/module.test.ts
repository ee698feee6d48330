import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Linear, RMSNorm } from './layers.js';
import { Module, ModuleList, StateDictError } from './module.js';
import { Rng } from './rng.js';
import { expectNoLeak, useBackend } from './testing.js';

class Attention extends Module {
  q: Linear;
  v: Linear;
  constructor(d: number, rng: Rng) {
    super();
    this.q = this.registerModule('q', new Linear(d, d, { bias: false, rng }));
    this.v = this.registerModule('v', new Linear(d, d, { bias: false, rng }));
  }
}
class Layer extends Module {
  SelfAttention: Attention;
  layer_norm: RMSNorm;
  constructor(d: number, rng: Rng) {
    super();
    this.SelfAttention = this.registerModule('SelfAttention', new Attention(d, rng));
    this.layer_norm = this.registerModule('layer_norm', new RMSNorm(d));
  }
}
class Tiny extends Module {
  shared: tf.Variable;
  block: ModuleList<ModuleList<Layer>>;
  head: Linear;
  constructor(rng = new Rng(1)) {
    super();
    this.shared = this.registerParameter('shared', tf.ones([5, 4]));
    this.block = this.registerModule('block', new ModuleList([new ModuleList([new Layer(4, rng)]), new ModuleList([new Layer(4, rng)])]));
    this.head = this.registerModule('head', new Linear(4, 3, { rng }));
  }
}

const NAMES = [
  'shared',
  'block.0.0.SelfAttention.q.weight',
  'block.0.0.SelfAttention.v.weight',
  'block.0.0.layer_norm.weight',
  'block.1.0.SelfAttention.q.weight',
  'block.1.0.SelfAttention.v.weight',
  'block.1.0.layer_norm.weight',
  'head.weight',
  'head.bias',
];

describe('Module', () => {
  beforeAll(() => useBackend('cpu'));

  it('names parameters with dotted paths in registration order and knows each module path', () => {
    expectNoLeak(() => {
      const m = new Tiny();
      expect(m.namedParameters().map(([n]) => n)).toEqual(NAMES);
      expect(m.path).toBe('');
      expect(m.block.at(1).at(0).SelfAttention.q.path).toBe('block.1.0.SelfAttention.q');
      expect(m.namedModules().map(([n]) => n)).toContain('block.0.0.SelfAttention');
      expect(m.getModule('block.1.0.layer_norm')).toBe(m.block.at(1).at(0).layer_norm);
      expect(m.getModule('block.7')).toBeUndefined();
      // names are relative to the module asked
      expect(
        m.block
          .at(0)
          .namedParameters()
          .map(([n]) => n),
      ).toEqual(['0.SelfAttention.q.weight', '0.SelfAttention.v.weight', '0.layer_norm.weight']);
      m.dispose();
    });
  });

  it('rejects duplicate and malformed names, and re-parenting', () => {
    const m = new Tiny();
    class Bad extends Module {
      add(name: string, x: Module) {
        return this.registerModule(name, x);
      }
    }
    const b = new Bad();
    expect(() => b.add('a.b', new Module())).toThrow(/name must match/);
    b.add('x', new Module());
    expect(() => b.add('x', new Module())).toThrow(/'x' is already registered/);
    expect(() => b.add('y', m.head)).toThrow(/already registered at 'head'/);
    m.dispose();
  });

  it('dedupes tied parameters in namedParameters but keeps aliases in stateDict', () => {
    class Tied extends Module {
      constructor() {
        super();
        const a = this.registerModule('a', new Linear(2, 2, { bias: false }));
        const b = this.registerModule('b', new Module());
        (b as unknown as { tie: (v: tf.Variable) => void }).tie = function (this: Module, v: tf.Variable) {
          (this as unknown as { registerParameter: (n: string, t: tf.Tensor) => void }).registerParameter('weight', v);
        };
        (b as unknown as { tie: (v: tf.Variable) => void }).tie(a.weight);
      }
    }
    expectNoLeak(() => {
      const t = new Tied();
      expect(t.namedParameters().map(([n]) => n)).toEqual(['a.weight']);
      expect([...t.stateDict().keys()]).toEqual(['a.weight', 'b.weight']);
      expect(t.stateDict().get('b.weight')).toBe(t.stateDict().get('a.weight'));
      t.dispose(); // disposes the shared variable once
    });
  });

  it('stateDict round-trips through loadStateDict', () => {
    expectNoLeak(() => {
      const a = new Tiny(new Rng(1));
      const b = new Tiny(new Rng(2));
      expect(a.head.weight.dataSync()).not.toEqual(b.head.weight.dataSync());
      b.loadStateDict(a.stateDict());
      for (const [name, v] of a.stateDict()) {
        expect(Array.from(b.stateDict().get(name)?.dataSync() ?? [])).toEqual(Array.from(v.dataSync()));
      }
      // the copy is independent of the source
      tf.tidy(() => a.head.weight.assign(tf.zerosLike(a.head.weight)));
      expect(b.head.weight.dataSync().some((x) => x !== 0)).toBe(true);
      a.dispose();
      b.dispose();
    });
  });

  it('reports missing, unexpected and shape-mismatched keys together, and assigns nothing', () => {
    const m = new Tiny();
    const before = Array.from(m.head.bias?.dataSync() ?? []);
    const sd = new Map<string, tf.Tensor>();
    for (const [k, v] of m.stateDict()) sd.set(k, tf.clone(v));
    sd.get('head.bias')?.dispose();
    sd.set('head.bias', tf.fill([3], 7));
    sd.get('shared')?.dispose();
    sd.delete('shared');
    sd.get('head.weight')?.dispose();
    sd.set('head.weight', tf.zeros([4, 3]));
    sd.set('extra.weight', tf.zeros([1]));
    let err: unknown;
    try {
      m.loadStateDict(sd);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateDictError);
    const e = err as StateDictError;
    expect(e.missing).toEqual(['shared']);
    expect(e.unexpected).toEqual(['extra.weight']);
    expect(e.mismatched).toEqual([{ key: 'head.weight', expected: [3, 4], got: [4, 3] }]);
    expect(e.message).toMatch(/missing keys: shared; unexpected keys: extra\.weight; shape mismatches: head\.weight/);
    expect(Array.from(m.head.bias?.dataSync() ?? [])).toEqual(before);
    // non-strict tolerates missing/unexpected keys but never a shape mismatch
    expect(() => m.loadStateDict(sd, { strict: false })).toThrow(StateDictError);
    sd.get('head.weight')?.dispose();
    sd.delete('head.weight');
    m.loadStateDict(sd, { strict: false });
    expect(Array.from(m.head.bias?.dataSync() ?? [])).toEqual([7, 7, 7]);
    for (const t of sd.values()) t.dispose();
    m.dispose();
  });

  it('freezes and unfreezes subtrees; train/eval set the flag recursively', () => {
    const m = new Tiny();
    expect(m.parameters({ trainableOnly: true })).toHaveLength(NAMES.length);
    m.block.setTrainable(false);
    expect(m.parameters({ trainableOnly: true })).toEqual([m.shared, m.head.weight, m.head.bias]);
    m.block.at(1).setTrainable(true);
    expect(m.parameters({ trainableOnly: true })).toHaveLength(6);
    expect(
      m
        .eval()
        .namedModules()
        .every(([, x]) => !x.training),
    ).toBe(true);
    expect(
      m
        .train()
        .namedModules()
        .every(([, x]) => x.training),
    ).toBe(true);
    m.head.eval();
    expect(m.training && !m.head.training).toBe(true);
    m.dispose();
  });

  it('dispose frees every variable', () => {
    const before = tf.memory().numTensors;
    const m = new Tiny();
    expect(tf.memory().numTensors).toBe(before + NAMES.length);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(m.head.weight.isDisposed).toBe(true);
  });
});
