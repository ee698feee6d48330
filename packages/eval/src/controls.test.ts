import { describe, expect, it } from 'vitest';
import { fixedDerangement } from './controls.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `task-${String(i).padStart(3, '0')}`);

describe('fixedDerangement', () => {
  it('gives no task its own instruction, and every task donates exactly once', () => {
    for (const n of [2, 3, 7, 47, 153]) {
      const d = fixedDerangement(ids(n), 0);
      expect(d.size).toBe(n);
      for (const [a, b] of d) expect(b, `n=${n}: ${a}`).not.toBe(a);
      expect(new Set(d.values()).size).toBe(n); // a permutation
    }
  });

  it('depends on the set of ids and the seed only, not their order', () => {
    const a = fixedDerangement(ids(40), 3);
    const b = fixedDerangement([...ids(40)].reverse(), 3);
    expect([...b].sort()).toEqual([...a].sort());
    const c = fixedDerangement(ids(40), 4);
    expect([...c].sort()).not.toEqual([...a].sort());
  });

  it('never hands a task an instruction identical to its own', () => {
    // tasks 0-2 share one instruction text, 3-4 another, the rest are unique
    const text = (id: string) => {
      const i = Number(id.slice(5));
      return i < 3 ? 'x' : i < 5 ? 'y' : id;
    };
    const d = fixedDerangement(ids(12), 0, (a, b) => text(a) === text(b));
    for (const [a, b] of d) expect(text(b), `${a} got ${b}`).not.toBe(text(a));
    // all identical: impossible, said so
    expect(() => fixedDerangement(ids(4), 0, () => true)).toThrow('no derangement found');
  });

  it('refuses fewer than two tasks and repeated ids', () => {
    expect(() => fixedDerangement(['a'])).toThrow('at least two tasks');
    expect(() => fixedDerangement(['a', 'a', 'b'])).toThrow('distinct task ids');
  });
});
