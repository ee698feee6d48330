// The file-based registry entries over ../shared: SNI test split and a P3 dataset.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../src/node.js';
import { SKIP_MESSAGE, hasShared, sharedDir } from './shared.js';

describe.skipIf(!hasShared)(`registry over ../shared (${hasShared ? 'present' : SKIP_MESSAGE})`, () => {
  it('loads the SNI test split, reporting the task files this copy lacks', async () => {
    const d = await loadDataset('sni', { root: path.join(sharedDir, 'data', 'sni'), split: 'test', skipMissing: true });
    if (d.kind !== 'tasks') throw new Error(d.kind);
    expect(d.tasks.length).toBe(6);
    expect((d.skips?.skipped ?? 0) + d.tasks.length).toBe(119);
    expect(d.skips?.reasons).toEqual({ 'task file not found': 113 });
    for (const t of d.tasks) expect(t.instances.length).toBeLessThanOrEqual(100);
  });

  it('renders a P3 dataset with its T0 templates into choice examples', async () => {
    const d = await loadDataset('p3', {
      dataset: 'super_glue/rte',
      p3Root: path.join(sharedDir, 'data', 'p3'),
      templatesRoot: path.join(sharedDir, 'data', 'p3', 'promptsource', 'templates'),
      limit: 20,
    });
    if (d.kind !== 'choices') throw new Error(d.kind);
    expect(d.examples.length + d.skips.skipped).toBeGreaterThanOrEqual(20 * 5);
    for (const e of d.examples) {
      expect(e.label).toBeGreaterThanOrEqual(0);
      expect(e.label).toBeLessThan(e.choices.length);
    }
  });
});
