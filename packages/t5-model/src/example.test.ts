import { beforeAll, expect, it } from 'vitest';
import { useBackend } from '@tagi/tensor-core/testing';
import { quickstart } from '../examples/quickstart.js';

beforeAll(async () => {
  await useBackend('cpu');
});

it('the quickstart example runs: generation decodes to text, both candidates get finite mean log-likelihoods', async () => {
  const r = await quickstart();
  expect(r.generated).toHaveLength(1);
  expect(typeof r.generated[0]).toBe('string');
  expect(r.scores).toHaveLength(2);
  for (const s of r.scores) {
    expect(Number.isFinite(s)).toBe(true);
    expect(s).toBeLessThan(0);
  }
});
