import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { fans, kaimingUniformInit, normalInit, uniformInit } from './init.js';
import { Rng } from './rng.js';
import { useBackend } from './testing.js';

function moments(xs: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < xs.length; i++) {
    s += xs[i] as number;
    s2 += (xs[i] as number) ** 2;
  }
  const mean = s / xs.length;
  return { mean, std: Math.sqrt(s2 / xs.length - mean * mean) };
}

describe('Rng', () => {
  it('same seed, same stream; different seeds, different streams', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 20 }, () => a.nextUint32());
    expect(Array.from({ length: 20 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.nextUint32())).not.toEqual(sa);
    expect(new Set(sa).size).toBe(20);
  });

  it('uniforms lie in [0, 1) with mean 1/2 and variance 1/12; normals have mean 0 and sd 1', () => {
    const rng = new Rng(7);
    const u = rng.uniformArray(100_000);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const mu = moments(u);
    expect(Math.abs(mu.mean - 0.5)).toBeLessThan(0.005); // sd of the mean ≈ 0.0009
    expect(Math.abs(mu.std - Math.sqrt(1 / 12))).toBeLessThan(0.005);
    const mn = moments(rng.normalArray(100_000));
    expect(Math.abs(mn.mean)).toBeLessThan(0.015); // sd of the mean ≈ 0.003
    expect(Math.abs(mn.std - 1)).toBeLessThan(0.015);
    const counts = new Array<number>(5).fill(0);
    for (let i = 0; i < 50_000; i++) {
      const j = rng.int(5);
      counts[j] = (counts[j] as number) + 1;
    }
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500); // sd ≈ 89
  });

  it('fork depends on the seed and label only, not on draws made before', () => {
    const a = new Rng(1);
    const f1 = a.fork('data');
    a.next();
    a.next();
    const f2 = a.fork('data');
    expect(f2.nextUint32()).toBe(f1.nextUint32());
    expect(new Rng(1).fork('init').nextUint32()).not.toBe(new Rng(1).fork('data').nextUint32());
    expect(new Rng(2).fork('data').nextUint32()).not.toBe(new Rng(1).fork('data').nextUint32());
  });

  it('state() survives JSON and continues the same stream', () => {
    const a = new Rng(99);
    for (let i = 0; i < 10; i++) a.next();
    const b = Rng.fromState(JSON.parse(JSON.stringify(a.state())));
    expect(Array.from({ length: 10 }, () => b.normal())).toEqual(Array.from({ length: 10 }, () => a.normal()));
    expect(b.fork('x').next()).toBe(a.fork('x').next());
    expect(() => Rng.fromState({ kind: 'other' })).toThrow(/expected \{ kind: 'xoshiro128\*\*'/);
    expect(() => new Rng(Number.NaN)).toThrow(/seed must be a finite number/);
  });

  it('shuffle is a seeded permutation', () => {
    const xs = Array.from({ length: 50 }, (_, i) => i);
    const s1 = new Rng(5).shuffle([...xs]);
    expect(new Rng(5).shuffle([...xs])).toEqual(s1);
    expect([...s1].sort((p, q) => p - q)).toEqual(xs);
    expect(s1).not.toEqual(xs);
  });
});

describe('initialisers', () => {
  beforeAll(() => useBackend('cpu'));

  it('fans follow PyTorch ([out, in, ...receptive])', () => {
    expect(fans([64, 32])).toEqual({ fanIn: 32, fanOut: 64 });
    expect(fans([8, 4, 3, 3])).toEqual({ fanIn: 36, fanOut: 72 });
    expect(() => fans([5])).toThrow(/rank >= 2/);
  });

  it('kaiming-uniform (a = sqrt 5) is U(-1/sqrt(fanIn), 1/sqrt(fanIn)); normal and uniform have the asked moments', () => {
    const rng = new Rng(3);
    const k = kaimingUniformInit()([256, 400], rng);
    const kv = k.dataSync();
    const bound = 1 / Math.sqrt(400);
    expect(Math.max(...kv)).toBeLessThanOrEqual(bound);
    expect(Math.min(...kv)).toBeGreaterThanOrEqual(-bound);
    expect(Math.abs(moments(kv).std - bound / Math.sqrt(3))).toBeLessThan(0.01 * bound);
    const relu = kaimingUniformInit({ a: 0 })([100, 50], rng); // gain sqrt 2: bound sqrt(6/50)
    expect(Math.max(...relu.dataSync())).toBeLessThanOrEqual(Math.sqrt(6 / 50));
    expect(Math.max(...relu.dataSync())).toBeGreaterThan(0.95 * Math.sqrt(6 / 50));
    const n = normalInit({ mean: 1, std: 0.1 })([200, 100], rng);
    const mn = moments(n.dataSync());
    expect(Math.abs(mn.mean - 1)).toBeLessThan(0.002);
    expect(Math.abs(mn.std - 0.1)).toBeLessThan(0.002);
    const ut = uniformInit({ low: -2, high: 4 })([10_000], rng);
    const u = ut.dataSync();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThan(4);
    // same seed, same weights
    const again = kaimingUniformInit()([256, 400], new Rng(3));
    expect(again.dataSync()).toEqual(kv);
    tf.dispose([k, relu, n, ut, again]);
  });
});
