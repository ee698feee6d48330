import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DatasetFieldError, DatasetParseError } from './errors.js';
import { loadSniTask, loadSniTasks, readSniSplit } from './node.js';
import { buildPrompt } from './prompts.js';
import { groupByCategory, parseSniReferences, parseSniTask, sampleInstances, sniTestInstances } from './sni.js';
import type { Task } from './types.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'sni');

describe('SNI task parsing', () => {
  it('tolerates the older variants: bare-string Definition/Categories/output, instances without id', async () => {
    const t = await loadSniTask(path.join(fixtures, 'tasks', 'task900_old_style.json'));
    expect(t.taskId).toBe('task900_old_style');
    expect(t.definition).toEqual(['Answer with the color named in the sentence']);
    expect(t.category).toBe('Color Naming');
    expect(t.instances.map((i) => i.outputs)).toEqual([['white'], ['black', 'dark'], ['white']]);
    expect(t.negativeExamples[0]?.output).toBe('red');
    const ids = t.instances.map((i) => i.id);
    expect(ids[0]).toMatch(/^task900-derived-[0-9a-f]{8}$/);
    expect(ids[2]).toBe(`${ids[0]}-2`); // same content twice: distinct, still stable
    expect(new Set(ids).size).toBe(3);
    // Stable: re-parsing a reordered file keeps an instance's id.
    const reordered = parseSniTask({ Definition: 'd', Instances: [{ input: 'Coal is black', output: ['black', 'dark'] }] }, { taskId: 'task900_old_style' });
    expect(reordered.instances[0]?.id).toBe(ids[1]);
    expect(t.extra).toEqual({ Contributors: ['fixture'] });
    // The collator appends the missing final period to the bare-string definition.
    expect(buildPrompt(t, 'Milk is white').source).toBe(
      'Definition: Answer with the color named in the sentence.\n\nNow complete the following example -\nInput: Milk is white.\nOutput: ',
    );
  });

  it('reports a malformed JSON file with its file and line', async () => {
    const file = path.join(fixtures, 'tasks', 'task901_malformed.json');
    const err = await loadSniTask(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetParseError);
    expect((err as DatasetParseError).file).toBe(file);
    expect((err as DatasetParseError).line).toBe(5);
    expect(String(err)).toContain('task901_malformed.json:5');
  });

  it('names a missing or mistyped required field', () => {
    expect(() => parseSniTask({ Instances: [] }, { file: 'f.json' })).toThrow(/f\.json: field "Definition"/);
    expect(() => parseSniTask({ Definition: ['d'] }, { file: 'f.json' })).toThrow(/field "Instances"/);
    expect(() => parseSniTask({ Definition: ['d'], Instances: [{ output: ['x'] }] }, { file: 'f.json' })).toThrow(DatasetFieldError);
    expect(() => parseSniTask({ Definition: ['d'], Instances: [{ input: 'x', output: 3 }] }, { file: 'f.json' })).toThrow(/Instances\[0\]\.output/);
  });

  it('reads split files and reports (not drops) missing task files', async () => {
    const names = await readSniSplit(fixtures, 'train');
    expect(names).toEqual(['task900_old_style', 'task902_absent']);
    const { tasks, missing } = await loadSniTasks(fixtures, { names, skipMissing: true });
    expect(tasks.map((t) => t.taskId)).toEqual(['task900_old_style']);
    expect(missing).toEqual(['task902_absent']);
    await expect(loadSniTasks(fixtures, { names })).rejects.toThrow(/ENOENT/);
  });

  it('reports a bad references line with file and line number', () => {
    const text = '{"id":"a","references":["x"],"task_id":"t","task_category":"c","track":"default"}\n{"id":"b",\n';
    expect(() => parseSniReferences(text, 'refs.jsonl')).toThrow(/refs\.jsonl:2/);
    expect(() => parseSniReferences('{"id":"a","task_id":"t","task_category":"c"}', 'refs.jsonl')).toThrow(/refs\.jsonl:1: field "references"/);
  });
});

describe('SNI instance selection', () => {
  const task: Task = {
    taskId: 'task1_demo',
    category: 'B',
    definition: ['d'],
    positiveExamples: [],
    negativeExamples: [],
    instances: Array.from({ length: 250 }, (_, i) => ({ id: `task1-${i}`, input: `x${i}`, outputs: ['y'] })),
  };
  it('uses the first 100 instances for evaluation', () => {
    expect(sniTestInstances(task).map((i) => i.id)).toEqual(task.instances.slice(0, 100).map((i) => i.id));
  });
  it('caps training instances with a per-task seed, deterministically and in file order', () => {
    const a = sampleInstances(task, 20, 7);
    expect(a.length).toBe(20);
    expect(sampleInstances(task, 20, 7)).toEqual(a);
    expect(sampleInstances(task, 20, 8)).not.toEqual(a);
    const idx = a.map((i) => Number(i.id.split('-')[1]));
    expect([...idx].sort((x, y) => x - y)).toEqual(idx);
    expect(new Set(idx).size).toBe(20);
    // Another task with the same seed draws a different subset (seed derived from the task id).
    const other = sampleInstances({ ...task, taskId: 'task2_demo' }, 20, 7);
    expect(other.map((i) => i.id)).not.toEqual(a.map((i) => i.id));
    expect(sampleInstances(task, 1000, 7).length).toBe(250);
  });
  it('groups tasks by category', () => {
    const g = groupByCategory([
      { ...task, category: 'B' },
      { ...task, taskId: 't2', category: 'A' },
      { ...task, taskId: 't3', category: 'B' },
    ]);
    expect([...g.keys()]).toEqual(['A', 'B']);
    expect(g.get('B')?.length).toBe(2);
  });
});
