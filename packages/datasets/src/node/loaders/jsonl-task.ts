// TEMPLATE LOADER — copy this file to add a dataset (see CONTRIBUTING.md, "Add a dataset loader").
//
// "jsonl-task": one instruction task from a jsonl file of {"input": …, "output": … | […]} rows and a
// definition given as an option. It shows the four things every loader does:
//   1. declare its options (name → one line of help): unknown options are rejected by the registry;
//   2. read options through optString/optNumber/optEnum so errors name `<dataset>.<option>`;
//   3. stream the file and report every bad row with file and line (DatasetParseError /
//      DatasetFieldError), or skip it and COUNT it in `skips` — never drop rows silently;
//   4. return a LoadedDataset (`tasks`, `choices` or `text`).
import { DatasetFieldError } from '../../errors.js';
import { optEnum, optString, type DatasetLoader } from '../../registry.js';
import type { TaskInstance } from '../../types.js';
import { readJsonl } from '../lines.js';

export const jsonlTaskLoader: DatasetLoader = {
  description: 'one task from a jsonl file of {"input", "output"} rows, with a definition given as an option',
  options: {
    file: 'path of the .jsonl file',
    definition: 'the task instruction',
    taskId: 'task id (default: the file name)',
    category: 'category name (default "custom")',
    onInvalid: '"error" (default) or "skip" (counted in skips)',
  },
  async load(o) {
    const file = optString('jsonl-task', o, 'file');
    const definition = optString('jsonl-task', o, 'definition');
    const taskId = optString('jsonl-task', o, 'taskId', (file.split(/[\\/]/).pop() ?? file).replace(/\.jsonl$/, ''));
    const strict = optEnum('jsonl-task', o, 'onInvalid', ['error', 'skip'] as const, 'error') === 'error';
    const instances: TaskInstance[] = [];
    const reasons: Record<string, number> = {};
    let skipped = 0;
    for await (const { line, value } of readJsonl(file)) {
      const row = value as Record<string, unknown> | null;
      const input = row?.input;
      const output = row?.output;
      const outputs = typeof output === 'string' ? [output] : output;
      const problem = typeof input !== 'string' ? 'input' : !Array.isArray(outputs) || !outputs.every((x) => typeof x === 'string') ? 'output' : undefined;
      if (problem !== undefined) {
        if (strict) throw new DatasetFieldError(file, problem, problem === 'input' ? 'a string' : 'a string or a list of strings', line);
        skipped++;
        reasons[`missing or invalid "${problem}"`] = (reasons[`missing or invalid "${problem}"`] ?? 0) + 1;
        continue;
      }
      instances.push({ id: `${taskId}-${line}`, input: input as string, outputs: outputs as string[] });
    }
    return {
      kind: 'tasks',
      tasks: [
        {
          taskId,
          category: optString('jsonl-task', o, 'category', 'custom'),
          definition: [definition],
          positiveExamples: [],
          negativeExamples: [],
          instances,
        },
      ],
      skips: { skipped, reasons },
    };
  },
};
