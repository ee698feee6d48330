import { describe, expect, it } from 'vitest';
import { DatasetArgumentError } from './errors.js';
import { embeddedSuite } from './embedded/suite.js';
import { listDatasets, loadDataset, registerDataset } from './registry.js';

describe('dataset registry', () => {
  it('serves the embedded suite by name, with the same tasks as embeddedSuite()', async () => {
    const d = await loadDataset('embedded', { seed: 3, trainInstances: 5, heldOutInstances: 4 });
    if (d.kind !== 'tasks') throw new Error(`kind ${d.kind}`);
    const s = embeddedSuite({ seed: 3, trainInstances: 5, heldOutInstances: 4 });
    expect(d.tasks).toEqual(s.train);
    expect(d.heldOut).toEqual(s.heldOut);
  });

  it('rejects unknown names, unknown options and mistyped options, naming them', async () => {
    await expect(loadDataset('nope')).rejects.toThrow(/name: expected a registered dataset \(.*embedded/);
    await expect(loadDataset('embedded', { sead: 1 })).rejects.toThrow(/embedded\.sead/);
    await expect(loadDataset('embedded', { seed: 'x' })).rejects.toThrow(DatasetArgumentError);
    await expect(loadDataset('embedded', { seed: 'x' })).rejects.toThrow(/embedded\.seed: expected a number/);
  });

  it('registers a contributed loader once; replacing needs an explicit flag', async () => {
    const loader = {
      description: 'two fixed tasks',
      options: { n: 'instances' },
      async load() {
        return { kind: 'tasks' as const, tasks: [] };
      },
    };
    registerDataset('test-fixed', loader);
    expect(() => registerDataset('test-fixed', loader)).toThrow(/already|not yet registered/);
    registerDataset('test-fixed', loader, { replace: true });
    expect(listDatasets().map((d) => d.name)).toContain('test-fixed');
    expect(() => registerDataset('Bad Name', loader)).toThrow(/name/);
    expect((await loadDataset('test-fixed')).kind).toBe('tasks');
  });
});
