import { describe, expect, it } from 'vitest';
import { quickstart } from '../examples/quickstart.js';

describe('examples/quickstart', () => {
  it('runs and shows a held-out instruction separate from the student input', async () => {
    const r = await quickstart();
    expect(r.heldOutTask.startsWith('cmp_')).toBe(true);
    expect(r.instruction.startsWith('Definition: ')).toBe(true);
    expect(r.instruction).not.toContain(r.studentInput);
    expect(r.concatenated).toBe(`${r.instruction}Now complete the following example -\nInput: ${r.studentInput}.\nOutput: `);
    expect(r.output).toMatch(/^[a-z]+$/);
    expect(r.registryTasks).toBe(128);
  });
});
