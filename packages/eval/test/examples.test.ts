import { describe, expect, it } from 'vitest';
import { quickstart } from '../examples/quickstart.js';

describe('examples/quickstart', () => {
  it('runs and prints metrics, rank accuracy, relative FLOPs and a table', async () => {
    const out = await quickstart();
    // golden case 145: 'police killed the gunman' vs 'police kill the gunman' -> 100 (stemming)
    expect(out).toContain('single rougeL 100');
    expect(out).toContain('rank accuracy 100');
    expect(out).toMatch(/relative FLOPs 0\.\d+/);
    expect(out).toContain('| Method | ROUGE-L | EM | Rel. FLOPs |');
  });
});
