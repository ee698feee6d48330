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
    // the summary: TAGI is above no adapter on every task, so the paired interval excludes 0
    expect(out).toContain('| Method | Seeds | Seen tasks, new instances (12 tasks) | Held-out tasks (12 tasks) | Rel. FLOPs |');
    expect(out).toMatch(/\| TAGI − No adapter \| \+\d+\.\d \[\d+\.\d, \d+\.\d\], p < 0\.0005 \|/);
    // the stand-in scorer always prefers 'yes': half right on every template
    expect(out).toContain('| super_glue/rte | 3 | 6 | 50.0 | 50.0 | 50.0 | 50.0 |');
  });
});
