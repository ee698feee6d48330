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

  it('serves each suite under its own name; the compositional one with seen-task instances, pretraining text and pairs', async () => {
    const c = await loadDataset('compositional-v1', { trainInstances: 5, heldOutInstances: 4, seenEvalInstances: 3 });
    if (c.kind !== 'tasks') throw new Error(`kind ${c.kind}`);
    const s = embeddedSuite({ name: 'compositional-v1', trainInstances: 5, heldOutInstances: 4, seenEvalInstances: 3 });
    expect(c.tasks).toEqual(s.train);
    expect(c.heldOut).toEqual(s.heldOut);
    expect(c.seenEval).toEqual(s.seenEval);
    expect(c.pretrainingText).toEqual(s.pretrainingText);
    expect(c.pretrainingPairs).toEqual(s.pretrainingPairs);
    expect(c.pretrainingPairs!.length).toBe(2 * s.train.reduce((n, t) => n + t.instances.length + t.positiveExamples.length + t.negativeExamples.length, 0));
    // the default, under both of its names
    const v2 = await loadDataset('compositional-v2', { trainInstances: 5, heldOutInstances: 4, seenEvalInstances: 3 });
    const byDefault = await loadDataset('embedded', { trainInstances: 5, heldOutInstances: 4, seenEvalInstances: 3 });
    if (v2.kind !== 'tasks' || byDefault.kind !== 'tasks') throw new Error('kind');
    expect(v2.tasks).toEqual(embeddedSuite({ name: 'compositional-v2', trainInstances: 5, heldOutInstances: 4, seenEvalInstances: 3 }).train);
    expect(byDefault.tasks).toEqual(v2.tasks);
    expect(v2.heldOut!.length).toBe(153 + 16);
    const viaEmbedded = await loadDataset('embedded', { name: 'lexical-v1', seed: 2 });
    const lexical = await loadDataset('lexical-v1', { seed: 2 });
    if (viaEmbedded.kind !== 'tasks' || lexical.kind !== 'tasks') throw new Error('kind');
    expect(lexical.tasks).toEqual(embeddedSuite({ name: 'lexical-v1', seed: 2 }).train);
    expect(viaEmbedded.tasks).toEqual(lexical.tasks);
    expect(lexical.seenEval).toBeUndefined();
    expect(lexical.pretrainingPairs).toBeUndefined();
    await expect(loadDataset('embedded', { name: 'lexical-v9' })).rejects.toThrow(
      /embedded\.name: expected one of compositional-v2, compositional-v1, lexical-v1/,
    );
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
