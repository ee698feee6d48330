// Tk-Instruct / TAGI prompt formatting (DataCollatorForNI, tk_instruct=false), reproduced exactly:
// the strings are compared character for character with ../shared/golden/sni.
import type { Task, TaskExample } from './types.js';

/** Python's `string.punctuation`: the collator appends "." unless a part already ends in one. */
const PY_PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

function endWithPunctuation(s: string): string {
  const last = s[s.length - 1];
  return last !== undefined && PY_PUNCTUATION.has(last) ? s : `${s}.`;
}

/** Python's str.strip() (whitespace only). */
function pyStrip(s: string): string {
  return s.replace(/^[\s\u001c-\u001f\u0085]+|[\s\u001c-\u001f\u0085]+$/gu, '');
}

export interface PromptOptions {
  /** Prefix the task name ("task036_... . "). Default false (TAGI/Tk-Instruct default). */
  readonly addTaskName?: boolean;
  /** Include the definition. Default true. */
  readonly addDefinition?: boolean;
  /** Positive examples to include (from the start of the task's list). Default 0. */
  readonly numPositive?: number;
  /** Negative examples to include. Default 0. */
  readonly numNegative?: number;
  /** Append each example's explanation. Default false. */
  readonly addExplanation?: boolean;
  /** Which definition to use (SNI and the collator use 0; the embedded suite has paraphrases). */
  readonly definitionIndex?: number;
  /**
   * Token counter used for the collator's length rule: an example is kept only while the whole
   * source stays within `maxSourceLength` tokens. Without a counter no example is dropped.
   */
  readonly countTokens?: (text: string) => number;
  /** Default 1024, as in the TAGI/Tk-Instruct scripts. */
  readonly maxSourceLength?: number;
}

/** The pieces of one prompt, as the collator assembles them. */
export interface PromptParts {
  readonly taskName: string;
  readonly definition: string;
  readonly positiveExamples: readonly string[];
  readonly negativeExamples: readonly string[];
  readonly taskInput: string;
}

/** The three strings TAGI derives from one (task, instance). */
export interface BuiltPrompt {
  /** Tk-Instruct input: task name + definition + examples + task input. */
  readonly source: string;
  /** What the hypernetwork reads: definition + examples, without the task input. */
  readonly hyperInstruction: string;
  /** Definition + task input (TAGI's `custom_model_input`), without examples. */
  readonly customModelInput: string;
  readonly parts: PromptParts;
}

/** "Now complete the following example -\nInput: ….\nOutput: " */
export function formatTaskInput(input: string): string {
  return `${endWithPunctuation(`Now complete the following example -\nInput: ${pyStrip(input)}`)}\nOutput: `;
}

/** "Definition: ….\n\n" (empty when `addDefinition` is false). */
export function formatDefinition(definition: string): string {
  return `${endWithPunctuation(`Definition: ${pyStrip(definition)}`)}\n\n`;
}

/** " Positive Example 1 -\nInput: ….\n Output: ….\n[ Explanation: ….\n]\n" */
export function formatExample(example: TaskExample, kind: 'Positive' | 'Negative', index: number, addExplanation: boolean): string {
  let s = ` ${kind} Example ${index + 1} -\n`;
  s = `${endWithPunctuation(`${s}Input: ${pyStrip(example.input)}`)}\n`;
  s = `${endWithPunctuation(`${s} Output: ${pyStrip(example.output)}`)}\n`;
  if (addExplanation && example.explanation !== undefined) {
    s = `${endWithPunctuation(`${s} Explanation: ${pyStrip(example.explanation)}`)}\n`;
  }
  return `${s}\n`;
}

/** Build the Tk-Instruct / TAGI strings for one instance input of `task`. */
export function buildPrompt(task: Task, input: string, options: PromptOptions = {}): BuiltPrompt {
  const {
    addTaskName = false,
    addDefinition = true,
    numPositive = 0,
    numNegative = 0,
    addExplanation = false,
    definitionIndex = 0,
    countTokens,
    maxSourceLength = 1024,
  } = options;
  const taskInput = formatTaskInput(input);
  const taskName = addTaskName ? `${task.taskId}. ` : '';
  let definition = '';
  if (addDefinition) {
    const text = task.definition[definitionIndex];
    if (text === undefined) {
      throw new RangeError(`buildPrompt: task "${task.taskId}" has ${task.definition.length} definitions, definitionIndex ${definitionIndex}`);
    }
    definition = formatDefinition(text);
  }
  const fits = (candidate: string): boolean => countTokens === undefined || countTokens(candidate) <= maxSourceLength;
  const positives: string[] = [];
  for (const [i, ex] of task.positiveExamples.slice(0, numPositive).entries()) {
    const s = formatExample(ex, 'Positive', i, addExplanation);
    // The collator measures with a " "-join of the kept examples (a quirk kept for exactness).
    if (!fits(definition + positives.join(' ') + s + taskInput)) break;
    positives.push(s);
  }
  const negatives: string[] = [];
  for (const [i, ex] of task.negativeExamples.slice(0, numNegative).entries()) {
    const s = formatExample(ex, 'Negative', i, addExplanation);
    if (!fits(definition + positives.join(' ') + negatives.join(' ') + s + taskInput)) break;
    negatives.push(s);
  }
  const examples = positives.join('') + negatives.join('');
  return {
    source: taskName + definition + examples + taskInput,
    hyperInstruction: definition + examples,
    customModelInput: definition + taskInput,
    parts: { taskName, definition, positiveExamples: positives, negativeExamples: negatives, taskInput },
  };
}

/** Named settings used in the TAGI / Tk-Instruct papers. */
export const PROMPT_SETTINGS = {
  Def: { numPositive: 0, numNegative: 0, addExplanation: false },
  'Def+2Pos': { numPositive: 2, numNegative: 0, addExplanation: false },
  'Def+2Pos+2Neg': { numPositive: 2, numNegative: 2, addExplanation: false },
  'Def+2Pos+2Neg+explanation': { numPositive: 2, numNegative: 2, addExplanation: true },
} as const satisfies Record<string, PromptOptions>;
export type PromptSetting = keyof typeof PROMPT_SETTINGS;
