// Super-NaturalInstructions: task files (v2 schema, tolerant of older variants), official splits,
// evaluation references, instance selection (test = first 100; seeded per-task caps for training)
// and grouping by category. Pure functions over parsed JSON/text: file IO is in './node'.
import { DatasetFieldError } from './errors.js';
import { parseJsonText, parseJsonl } from './json.js';
import { DataRng, hashString } from './rng.js';
import type { Task, TaskExample, TaskInstance } from './types.js';

/** SNI keys this loader interprets; any other key is kept in `Task.extra`. */
const KNOWN_KEYS = new Set([
  'Definition',
  'Positive Examples',
  'Negative Examples',
  'Instances',
  'Categories',
  'Instance License',
  'Source',
  'Domains',
  'Input_language',
  'Output_language',
  'Instruction_language',
]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A string list field: SNI uses lists, older files sometimes bare strings. Missing → undefined. */
function stringList(obj: Record<string, unknown>, key: string, file: string): string[] | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new DatasetFieldError(file, key, 'a string or a list of strings');
}

function examples(obj: Record<string, unknown>, key: string, file: string): TaskExample[] {
  const v = obj[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new DatasetFieldError(file, key, 'a list of {input, output, explanation}');
  return v.map((e, i) => {
    const where = `${key}[${i}]`;
    if (!isRecord(e)) throw new DatasetFieldError(file, where, 'an object {input, output, explanation}');
    if (typeof e.input !== 'string') throw new DatasetFieldError(file, `${where}.input`, 'a string');
    const output = Array.isArray(e.output) ? e.output[0] : e.output;
    if (typeof output !== 'string') throw new DatasetFieldError(file, `${where}.output`, 'a string');
    const ex: TaskExample = { input: e.input, output };
    return typeof e.explanation === 'string' ? { ...ex, explanation: e.explanation } : ex;
  });
}

/** "task1393_superglue_copa_text_completion" → "task1393" (the prefix SNI instance ids use). */
function idPrefix(taskId: string): string {
  return /^task\d+/.exec(taskId)?.[0] ?? taskId;
}

/**
 * A stable id for an instance without one: derived from the task and the instance content (not its
 * position), so truncating or reordering a file keeps ids; duplicates get a "-2", "-3" suffix.
 */
export function deriveInstanceId(taskId: string, input: string, outputs: readonly string[]): string {
  const h = hashString(`${input}\u0000${outputs.join('\u0001')}`)
    .toString(16)
    .padStart(8, '0');
  return `${idPrefix(taskId)}-derived-${h}`;
}

export interface ParseSniOptions {
  /** Used in errors and as the task id when `taskId` is not given. */
  readonly file?: string;
  /** Task id; default: the file name without directory and `.json`. */
  readonly taskId?: string;
}

/** Convert one parsed SNI task JSON object into a Task. */
export function parseSniTask(json: unknown, options: ParseSniOptions = {}): Task {
  const file = options.file ?? '<sni task>';
  const taskId = options.taskId ?? (file.split(/[\\/]/).pop() ?? file).replace(/\.json$/, '');
  if (!isRecord(json)) throw new DatasetFieldError(file, '<root>', 'a JSON object (an SNI task)');
  const definition = stringList(json, 'Definition', file);
  if (definition === undefined || definition.length === 0) throw new DatasetFieldError(file, 'Definition', 'a non-empty string or list of strings');
  const rawInstances = json.Instances;
  if (!Array.isArray(rawInstances)) throw new DatasetFieldError(file, 'Instances', 'a list of {id, input, output[]}');
  const seen = new Map<string, number>();
  const instances: TaskInstance[] = rawInstances.map((inst, i) => {
    const where = `Instances[${i}]`;
    if (!isRecord(inst)) throw new DatasetFieldError(file, where, 'an object {id, input, output}');
    if (typeof inst.input !== 'string') throw new DatasetFieldError(file, `${where}.input`, 'a string');
    const rawOut = inst.output;
    const outputs = typeof rawOut === 'string' ? [rawOut] : rawOut;
    if (!Array.isArray(outputs) || !outputs.every((o) => typeof o === 'string')) {
      throw new DatasetFieldError(file, `${where}.output`, 'a string or a list of strings');
    }
    let id: string;
    if (typeof inst.id === 'string') id = inst.id;
    else if (inst.id === undefined) {
      const base = deriveInstanceId(taskId, inst.input, outputs as string[]);
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      id = n === 1 ? base : `${base}-${n}`;
    } else throw new DatasetFieldError(file, `${where}.id`, 'a string');
    return { id, input: inst.input, outputs: outputs as string[] };
  });
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) if (!KNOWN_KEYS.has(k)) extra[k] = v;
  const optional = <K extends string>(key: string, name: K): { [P in K]?: string[] } => {
    const v = stringList(json, key, file);
    return (v === undefined ? {} : { [name]: v }) as { [P in K]?: string[] };
  };
  return {
    taskId,
    category: stringList(json, 'Categories', file)?.[0] ?? 'Uncategorized',
    definition,
    positiveExamples: examples(json, 'Positive Examples', file),
    negativeExamples: examples(json, 'Negative Examples', file),
    instances,
    ...optional('Instance License', 'license'),
    ...optional('Source', 'source'),
    ...optional('Domains', 'domains'),
    ...optional('Input_language', 'inputLanguage'),
    ...optional('Output_language', 'outputLanguage'),
    ...optional('Instruction_language', 'instructionLanguage'),
    extra,
  };
}

/** Parse the text of an SNI task file (errors name the file and line). */
export function parseSniTaskText(text: string, options: ParseSniOptions = {}): Task {
  const file = options.file ?? '<sni task>';
  return parseSniTask(parseJsonText(text, file), { ...options, file });
}

/** Task names from an official split file (`train_tasks.txt`, `test_tasks.txt`): one per line. */
export function parseSplitFile(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** One row of `test_references.jsonl`. */
export interface SniReference {
  readonly id: string;
  readonly references: readonly string[];
  readonly taskId: string;
  readonly taskCategory: string;
  readonly track: string;
}

export function parseSniReferences(text: string, file = '<test_references.jsonl>'): SniReference[] {
  return parseJsonl(text, file).map((row, i) => {
    const line = i + 1;
    if (!isRecord(row)) throw new DatasetFieldError(file, '<row>', 'a JSON object', line);
    const str = (k: string): string => {
      const v = row[k];
      if (typeof v !== 'string') throw new DatasetFieldError(file, k, 'a string', line);
      return v;
    };
    const refs = row.references;
    if (!Array.isArray(refs) || !refs.every((r) => typeof r === 'string')) {
      throw new DatasetFieldError(file, 'references', 'a list of strings', line);
    }
    return {
      id: str('id'),
      references: refs as string[],
      taskId: str('task_id'),
      taskCategory: str('task_category'),
      track: typeof row.track === 'string' ? row.track : 'default',
    };
  });
}

/** SNI evaluation: the first `max` (default 100) instances of a test task. */
export function sniTestInstances(task: Task, max = 100): TaskInstance[] {
  return task.instances.slice(0, max);
}

/**
 * Training cap: at most `max` instances, sampled without replacement with a generator derived from
 * (seed, task id) so every task's sample is independent of the others; original order is kept.
 */
export function sampleInstances(task: Task, max: number, seed = 42): TaskInstance[] {
  if (!Number.isInteger(max) || max < 0) throw new RangeError(`sampleInstances: max must be a non-negative integer, got ${max}`);
  if (task.instances.length <= max) return task.instances.slice();
  const rng = DataRng.derive(seed, task.taskId);
  const keep = rng
    .shuffle(task.instances.map((_, i) => i))
    .slice(0, max)
    .sort((a, b) => a - b);
  return keep.map((i) => task.instances[i] as TaskInstance);
}

/** Tasks grouped by category (TAGI trains one teacher per category), categories sorted by name. */
export function groupByCategory<T extends Pick<Task, 'category'>>(tasks: readonly T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const t of [...tasks].sort((a, b) => (a.category < b.category ? -1 : a.category > b.category ? 1 : 0))) {
    const list = m.get(t.category) ?? [];
    list.push(t);
    m.set(t.category, list);
  }
  return m;
}
