import { describe, expect, it } from 'vitest';
import { familyBreakdown } from './results.js';

describe('familyBreakdown', () => {
  it('averages ROUGE-L per setting, family and method over instances, seeds pooled', () => {
    const rec = (method: string, taskId: string, instanceId: string, rougeL: number, seed?: number) => ({
      method,
      taskId,
      split: 'heldout-combination',
      instanceId,
      rougeL,
      ...(seed !== undefined ? { seed } : {}),
    });
    const records = [
      rec('tagi', 't1', 'i1', 100, 1),
      rec('tagi', 't1', 'i1', 0, 2),
      rec('tagi', 't2', 'i1', 50, 1),
      rec('tagi', 't2', 'i1', 50, 2),
      rec('no-adapter', 't1', 'i1', 20),
      rec('no-adapter', 't3', 'i1', 10),
      { ...rec('tagi', 't1', 'i1', 30, 1), split: 'seen-new' },
    ];
    const fam: Record<string, string> = { t1: 'position_map', t2: 'position_map', t3: 'neighbor' };
    const b = familyBreakdown(records, (id) => fam[id]);
    expect(b).toEqual({
      'heldout-combination': {
        position_map: { instances: 2, rougeL: { tagi: 50, 'no-adapter': 20 } },
        neighbor: { instances: 1, rougeL: { 'no-adapter': 10 } },
      },
      'seen-new': { position_map: { instances: 1, rougeL: { tagi: 30 } } },
    });
    expect(familyBreakdown([rec('tagi', 'zz', 'i1', 5)], () => undefined)['heldout-combination']).toEqual({
      '(unknown)': { instances: 1, rougeL: { tagi: 5 } },
    });
  });
});
