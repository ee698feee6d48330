import { describe, expect, it } from 'vitest';
import { measureRelativeCost, Stopwatch, timeIt } from './timer.js';

/** A fake clock that the functions under test advance by known amounts. */
function fakeClock(): { clock: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { clock: () => t, advance: (ms) => (t += ms) };
}

describe('timer', () => {
  it('timeIt skips warm-up runs and reports per-run durations', async () => {
    const { clock, advance } = fakeClock();
    const durations = [50, 10, 30, 20, 40]; // first is the warm-up
    let i = 0;
    const s = await timeIt(() => advance(durations[i++]!), { repeats: 4, warmup: 1, clock });
    expect(s.samplesMs).toEqual([10, 30, 20, 40]);
    expect(s.meanMs).toBe(25);
    expect(s.medianMs).toBe(25);
    expect(s.minMs).toBe(10);
  });

  it('measureRelativeCost alternates runs and divides medians', async () => {
    const { clock, advance } = fakeClock();
    const order: string[] = [];
    const r = await measureRelativeCost(
      () => (order.push('b'), advance(100)),
      async () => (order.push('c'), advance(39)),
      { repeats: 3, warmup: 1, clock },
    );
    expect(order).toEqual(['b', 'c', 'b', 'c', 'b', 'c', 'b', 'c']);
    expect(r.ratio).toBeCloseTo(0.39, 12);
  });

  it('measures real time with performance.now', async () => {
    const s = await timeIt(() => new Promise((resolve) => setTimeout(resolve, 20)), { repeats: 2, warmup: 0 });
    expect(s.minMs).toBeGreaterThanOrEqual(15);
  });

  it('Stopwatch accumulates per label, also when fn throws', async () => {
    const { clock, advance } = fakeClock();
    const w = new Stopwatch(clock);
    await w.time('encode', () => advance(5));
    await w.time('encode', () => advance(7));
    await expect(w.time('decode', () => (advance(3), Promise.reject(new Error('boom'))))).rejects.toThrow('boom');
    expect(w.summary()).toEqual([
      { label: 'encode', totalMs: 12, calls: 2, meanMs: 6 },
      { label: 'decode', totalMs: 3, calls: 1, meanMs: 3 },
    ]);
    await expect(timeIt(() => 0, { repeats: 0 })).rejects.toThrow(/opts\.repeats/);
  });
});
