import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { quickstart } from '../examples/quickstart.js';
import { initBackend, resetBackendStateForTests } from './backend.js';

describe('README quickstart (examples/quickstart.ts)', () => {
  afterAll(() => resetBackendStateForTests());

  it('trains a LoRA delta on a frozen block, saves and reloads it, without leaking', async () => {
    resetBackendStateForTests();
    await initBackend({ backend: 'cpu' });
    const before = tf.memory().numTensors;
    const r = await quickstart('cpu');
    expect(r.backend).toBe('cpu');
    expect(r.names.sort()).toEqual(['layer_norm.weight', 'q.weight']);
    expect(r.losses[4]).toBeLessThan(r.losses[0] as number); // the adapter learns
    expect(tf.memory().numTensors).toBe(before);
  });
});
