// Test for the template loader: copy it together with the loader (see CONTRIBUTING.md).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../node.js';

const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '__fixtures__', 'jsonl-task', 'arith.jsonl');

describe('jsonl-task loader (the template)', () => {
  it('loads rows into one task and counts skipped rows', async () => {
    const d = await loadDataset('jsonl-task', { file, definition: 'Add the numbers.', onInvalid: 'skip' });
    if (d.kind !== 'tasks') throw new Error(d.kind);
    const task = d.tasks[0];
    expect(task?.taskId).toBe('arith');
    expect(task?.definition).toEqual(['Add the numbers.']);
    expect(task?.instances).toEqual([
      { id: 'arith-1', input: '2 + 2', outputs: ['4'] },
      { id: 'arith-2', input: '3 + 1', outputs: ['4', 'four'] },
      { id: 'arith-4', input: '1 + 1', outputs: ['2'] },
    ]);
    expect(d.skips).toEqual({ skipped: 1, reasons: { 'missing or invalid "input"': 1 } });
  });

  it('by default stops at a bad row naming file, line and field', async () => {
    await expect(loadDataset('jsonl-task', { file, definition: 'Add.' })).rejects.toThrow(/arith\.jsonl:3: field "input"/);
    await expect(loadDataset('jsonl-task', { file })).rejects.toThrow(/jsonl-task\.definition/);
  });
});
