// The one place the trainer turns an instruction into the hypernetwork's input, so training, evaluation
// and `tagi generate` feed it the same text and the same ids for the same task. A task gives its
// definition (+ the first `numPos` positive examples, Tk-Instruct formatting); text typed by a user is
// treated exactly as a task definition (a "Definition:" label they typed is not doubled). One truncation
// policy: demonstrations are dropped from the end first, then the definition is cut (eos kept), and the
// caller is told, so it can warn — never silently.
// (@tagi/datasets is getting this function; when it lands, this file delegates to it and stays the call site.)
import { type Task, buildPrompt } from '@tagi/datasets';

/** A tokenizer that appends eos and can truncate keeping it (T5Tokenizer, PrunedTokenizer). */
export interface InstructionTokenizer {
  encode(text: string, opts?: { maxLength?: number }): number[];
}

/** An instruction that is empty or whitespace only. */
export class InstructionError extends Error {
  override readonly name = 'InstructionError';
}

/** What was cut to fit the hypernetwork's instruction length. */
export interface Truncation {
  /** Tokens before anything was cut. */
  readonly fromTokens: number;
  readonly toTokens: number;
  /** Demonstrations dropped (from the end). */
  readonly droppedExamples: number;
}

/** A user's free text as a task (one definition, no demonstrations). */
export function taskFromText(text: string): Task {
  const body = text.replace(/^\s*Definition:\s*/, '');
  if (body.trim() === '') throw new InstructionError('instruction: empty or whitespace only; give the task definition as text');
  return { taskId: 'user-instruction', category: 'user', definition: [body], positiveExamples: [], negativeExamples: [], instances: [] };
}

/** The hypernetwork's instruction text for a task: "Definition: …" + the first `numPos` positive examples. */
export function hypernetInstructionText(task: Task, numPos: number): string {
  return buildPrompt(task, '', { addDefinition: true, numPositive: Math.min(numPos, task.positiveExamples.length) }).hyperInstruction;
}

/**
 * The hypernetwork's input ids for a task (or a user's text): at most `maxTokens` ids ending in eos.
 * Over-long instructions lose demonstrations from the end first, then the end of the definition;
 * `onTruncate` is told what was cut.
 */
export function hypernetInstructionIds(tok: InstructionTokenizer, source: Task | string, numPos: number, maxTokens: number, onTruncate?: (t: Truncation) => void): number[] {
  const task = typeof source === 'string' ? taskFromText(source) : source;
  if (task.definition.every((d) => d.trim() === '')) throw new InstructionError(`instruction of task '${task.taskId}': empty definition`);
  let k = Math.min(numPos, task.positiveExamples.length);
  let ids = tok.encode(hypernetInstructionText(task, k));
  const fromTokens = ids.length;
  while (ids.length > maxTokens && k > 0) {
    k--;
    ids = tok.encode(hypernetInstructionText(task, k));
  }
  if (ids.length > maxTokens) ids = tok.encode(hypernetInstructionText(task, k), { maxLength: maxTokens });
  const dropped = Math.min(numPos, task.positiveExamples.length) - k;
  if (dropped > 0 || ids.length < fromTokens) onTruncate?.({ fromTokens, toTokens: ids.length, droppedExamples: dropped });
  return ids;
}
