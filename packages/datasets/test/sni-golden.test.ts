// Prompt strings must equal TAGI's collator output (../shared/golden/sni) character for character,
// and the real SNI task files must agree with the official evaluation references.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPrompt, parseJsonl, prepareInstruction, sniTestInstances, tagiExamples } from '../src/index.js';
import { loadSniTasks, readSniReferences, readSniSplit } from '../src/node.js';
import { SKIP_MESSAGE, hasShared, sharedDir } from './shared.js';

interface GoldenRow {
  task: string;
  instance_index: number;
  instance_id: string;
  setting: string;
  collator_settings: { add_task_name: boolean; num_pos_examples: number; num_neg_examples: number; add_explanation: boolean };
  source: string;
  hyper_instruction: string;
  custom_model_input: string;
  parts: { task_name: string; definition: string; pos_examples: string[]; neg_examples: string[]; task_input: string };
  outputs: string[];
}

describe.skipIf(!hasShared)(`SNI against ../shared (${hasShared ? 'present' : SKIP_MESSAGE})`, async () => {
  const sniRoot = path.join(sharedDir, 'data', 'sni');
  const { tasks } = hasShared ? await loadSniTasks(sniRoot) : { tasks: [] };
  const byId = new Map(tasks.map((t) => [t.taskId, t]));

  it('loads the 9 real task files', () => {
    expect(tasks.length).toBe(9);
    for (const t of tasks) {
      expect(t.definition.length).toBeGreaterThan(0);
      expect(t.instances.length).toBeGreaterThan(0);
      expect(t.category).not.toBe('Uncategorized');
    }
  });

  it('reproduces every golden prompt (Def, Def+2Pos, +2Neg+explanation) exactly', () => {
    const rows = parseJsonl(readFileSync(path.join(sharedDir, 'golden', 'sni', 'sni-prompts.jsonl'), 'utf8'), 'sni-prompts.jsonl') as GoldenRow[];
    expect(rows.length).toBe(135);
    for (const row of rows) {
      const task = byId.get(row.task);
      if (task === undefined) throw new Error(`golden task ${row.task} not loaded`);
      const inst = task.instances[row.instance_index];
      expect(inst?.id).toBe(row.instance_id);
      expect(inst?.outputs).toEqual(row.outputs);
      const s = row.collator_settings;
      const p = buildPrompt(task, inst?.input ?? '', {
        addTaskName: s.add_task_name,
        numPositive: s.num_pos_examples,
        numNegative: s.num_neg_examples,
        addExplanation: s.add_explanation,
      });
      const where = `${row.task}#${row.instance_index} ${row.setting}`;
      expect(p.source, where).toBe(row.source);
      expect(p.hyperInstruction, where).toBe(row.hyper_instruction);
      expect(p.customModelInput, where).toBe(row.custom_model_input);
      expect(p.parts.definition, where).toBe(row.parts.definition);
      expect(p.parts.positiveExamples, where).toEqual(row.parts.pos_examples);
      expect(p.parts.negativeExamples, where).toEqual(row.parts.neg_examples);
      expect(p.parts.taskInput, where).toBe(row.parts.task_input);
      expect(p.parts.taskName, where).toBe(row.parts.task_name);
    }
  });

  it('gives the same golden strings through prepareInstruction and tagiExamples (the one instruction -> input function)', () => {
    const rows = parseJsonl(readFileSync(path.join(sharedDir, 'golden', 'sni', 'sni-prompts.jsonl'), 'utf8'), 'sni-prompts.jsonl') as GoldenRow[];
    for (const row of rows) {
      const task = byId.get(row.task);
      if (task === undefined) throw new Error(`golden task ${row.task} not loaded`);
      const s = row.collator_settings;
      expect(s.add_task_name).toBe(false);
      const format = { numPositive: s.num_pos_examples, numNegative: s.num_neg_examples, addExplanation: s.add_explanation };
      const p = prepareInstruction(task, format);
      const where = `${row.task}#${row.instance_index} ${row.setting}`;
      expect(p.instruction, where).toBe(row.hyper_instruction);
      expect(p.forInput(task.instances[row.instance_index]?.input ?? '').concatenated, where).toBe(row.source);
      const t = tagiExamples({ ...task, instances: task.instances.slice(row.instance_index, row.instance_index + 1) }, format)[0];
      expect(t?.instruction, where).toBe(row.hyper_instruction);
      expect(t?.concatenated, where).toBe(row.source);
    }
  });

  it('agrees with test_references.jsonl on test-task instance ids and outputs', async () => {
    const refs = await readSniReferences(path.join(sniRoot, 'eval', 'test_references.jsonl'));
    expect(refs.length).toBe(11810);
    const testNames = new Set(await readSniSplit(sniRoot, 'test'));
    expect(testNames.size).toBe(119);
    expect((await readSniSplit(sniRoot, 'train')).length).toBe(756);
    const refsByTask = new Map<string, typeof refs>();
    for (const r of refs) refsByTask.set(r.taskId, [...(refsByTask.get(r.taskId) ?? []), r]);
    let checked = 0;
    for (const t of tasks.filter((x) => testNames.has(x.taskId))) {
      const expected = refsByTask.get(t.taskId) ?? [];
      const mine = sniTestInstances(t);
      // The shared files are truncated copies: compare the prefix they hold.
      expect(expected.length).toBeGreaterThanOrEqual(mine.length);
      mine.forEach((inst, i) => {
        expect(inst.id).toBe(expected[i]?.id);
        expect(inst.outputs).toEqual(expected[i]?.references);
        checked++;
      });
      expect(t.category).toBe(expected[0]?.taskCategory);
    }
    expect(checked).toBeGreaterThan(200);
  });
});
