import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendError, initBackend, resetBackendStateForTests } from './backend.js';

afterEach(() => resetBackendStateForTests());

describe('initBackend', () => {
  it('rejects an unknown backend name, naming the choices', async () => {
    await expect(initBackend({ backend: 'webgpu' as never })).rejects.toThrow(/unknown backend 'webgpu'.*auto, tensorflow, wasm, cpu/);
  });

  it('selects cpu when asked and reports the attempt', async () => {
    const report = await initBackend({ backend: 'cpu' });
    expect(report).toEqual({ backend: 'cpu', requested: 'cpu', tried: [{ name: 'cpu', ok: true }] });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('is a no-op for the same backend and an error for a different one', async () => {
    const first = await initBackend({ backend: 'cpu' });
    await expect(initBackend({ backend: 'cpu' })).resolves.toBe(first);
    const err = await initBackend({ backend: 'wasm' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toMatch(/already initialised as 'cpu'.*cannot switch to 'wasm'/);
  });

  it('auto tries tfjs-node-gpu, tfjs-node, wasm, cpu in order and stops at the first that works', async () => {
    const report = await initBackend({ backend: 'auto' });
    const order = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', 'wasm', 'cpu'];
    expect(report.tried.map((t) => t.name)).toEqual(order.slice(0, report.tried.length));
    const last = report.tried[report.tried.length - 1];
    expect(last?.ok).toBe(true);
    for (const t of report.tried.slice(0, -1)) {
      expect(t.ok).toBe(false);
      expect(t.reason).toMatch(/\S/); // a failed attempt always says why
    }
    expect(report.backend).toBe(tf.getBackend());
    expect(['tensorflow', 'wasm', 'cpu']).toContain(report.backend);
  });

  it("'tensorflow' fails with a report when no native binding is usable, or selects it", async () => {
    const result = await initBackend({ backend: 'tensorflow' }).catch((e: unknown) => e);
    if (result instanceof BackendError) {
      expect(result.report?.tried.map((t) => t.name)).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
      expect(result.message).toMatch(/no backend available for 'tensorflow'/);
    } else {
      expect((result as { backend: string }).backend).toBe('tensorflow');
    }
  });
});
