import { describe, expect, it } from 'vitest';
import { quickstart } from '../examples/quickstart.js';

describe('examples/quickstart', () => {
  it('runs and shows a held-out instruction separate from the student input', async () => {
    const r = await quickstart();
    expect(r.heldOutTask.startsWith('cmp_')).toBe(true);
    expect(r.instruction.startsWith('Definition: ')).toBe(true);
    expect(r.instruction).not.toContain(r.studentInput);
    expect(r.output.length).toBeGreaterThan(0);
    expect(r.registryTasks).toBeGreaterThan(100);
  });
});
