// Node file IO for Super-NaturalInstructions. Layout as in allenai/natural-instructions:
// <root>/tasks/<task>.json, <root>/splits/<split name>/{train,test}_tasks.txt.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DatasetArgumentError } from '../errors.js';
import { parseSniReferences, parseSniTaskText, parseSplitFile, type SniReference } from '../sni.js';
import type { Task } from '../types.js';

export async function loadSniTask(file: string): Promise<Task> {
  return parseSniTaskText(await readFile(file, 'utf8'), { file });
}

/** Task names of an official split: `<root>/splits/<splitName>/<which>_tasks.txt`. */
export async function readSniSplit(root: string, which: 'train' | 'test', splitName = 'default'): Promise<string[]> {
  if (which !== 'train' && which !== 'test') throw new DatasetArgumentError('which', '"train" or "test"', which);
  return parseSplitFile(await readFile(path.join(root, 'splits', splitName, `${which}_tasks.txt`), 'utf8'));
}

export interface LoadSniTasksOptions {
  /** Only these task names (default: every `*.json` under `<root>/tasks`). */
  readonly names?: readonly string[];
  /** Skip names whose file is absent instead of throwing (counted in `missing`). Default false. */
  readonly skipMissing?: boolean;
}

/** Load tasks from `<root>/tasks`; with `skipMissing`, absent files are reported, never silently dropped. */
export async function loadSniTasks(root: string, options: LoadSniTasksOptions = {}): Promise<{ tasks: Task[]; missing: string[] }> {
  const dir = path.join(root, 'tasks');
  let names = options.names;
  if (names === undefined) {
    const { readdir } = await import('node:fs/promises');
    names = (await readdir(dir))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .sort();
  }
  const tasks: Task[] = [];
  const missing: string[] = [];
  for (const name of names) {
    const file = path.join(dir, `${name}.json`);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if (options.skipMissing === true && (e as NodeJS.ErrnoException).code === 'ENOENT') {
        missing.push(name);
        continue;
      }
      throw e;
    }
    tasks.push(parseSniTaskText(text, { file, taskId: name }));
  }
  return { tasks, missing };
}

export async function readSniReferences(file: string): Promise<SniReference[]> {
  return parseSniReferences(await readFile(file, 'utf8'), file);
}
