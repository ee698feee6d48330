// The playground's one call site of @tagi/datasets' `prepareInstruction`, the instruction → model input
// function that training, evaluation and `tagi generate` call too. The Node server (engine.ts) and the
// in-page runner (web/) both prepare through here with the run's own prompt format and token budgets, so
// the TAGI column, the concatenated columns and the page see exactly the ids training computed. One
// length policy (datasets'): demonstrations dropped from the end, then the definition cut, eos kept —
// every cut reported, and shown to the user as a warning. No Node imports.
import { type InstructionSource, type PreparedInstruction, type TruncationReport, prepareInstruction } from '@tagi/datasets';

/** How a run formats instructions and how many tokens it gives them (from its config.json and hypernet). */
export interface RunPrompt {
  /** Positive demonstrations in a task's instruction (the run's prompt.numPos; free text has none). */
  readonly numPositive: number;
  /** Token budget of the student input and of the concatenated prompt (the run's prompt.maxSourceLength). */
  readonly maxSourceTokens: number;
  /** Token budget of the hypernetwork's instruction (its max_instruction_length). */
  readonly maxInstructionTokens: number;
  /** Where numPositive and maxSourceTokens came from: the run's config.json, or defaults (no run config). */
  readonly from: 'config.json' | 'default';
}

/** A tokenizer that appends eos (T5Tokenizer, PrunedTokenizer). */
export interface InstructionTokenizer {
  readonly eosTokenId: number;
  encode(text: string): number[];
}

/** A suite task as the page holds it: enough of it for `prepareInstruction` to format it as training did. */
export type TaskSource = Exclude<InstructionSource, string> & { readonly taskId: string };

export interface PreparedRun {
  readonly prepared: PreparedInstruction;
  /** The hypernetwork's input ids (after the policy's cut, eos kept). */
  readonly instructionIds: number[];
  /** The instruction's cut, if any. */
  readonly truncation?: TruncationReport;
}

export interface PreparedInputs {
  /** What TAGI's student reads: each input alone, within the source budget. */
  readonly studentIds: number[][];
  /** What the no-adapter and instruction-concatenated models read: the Tk-Instruct prompt of each input. */
  readonly concatenatedIds: number[][];
  /** Every cut of these inputs' texts, with the index of the input it belongs to. */
  readonly truncations: { readonly input: number; readonly report: TruncationReport }[];
}

/**
 * What an instruction is made from: the suite task while `text` is still that task's instruction as the
 * run formats it (definition + the run's demonstrations), else the text as typed, which is then a
 * definition (as `tagi generate` treats it). The server and the page decide the same way here.
 */
export function instructionSource(text: string, task: TaskSource | undefined, numPositive: number): string | TaskSource {
  return task !== undefined && prepareInstruction(task, { numPositive }).instruction === text ? task : text;
}

/** The instruction of a task (formatted as training formatted it) or of free text (treated as a definition). */
export function prepareForRun(source: string | TaskSource, prompt: RunPrompt, tokenizer: InstructionTokenizer): PreparedRun {
  const prepared = prepareInstruction(
    source,
    { numPositive: prompt.numPositive },
    { encoder: tokenizer, eosTokenId: tokenizer.eosTokenId, maxInstructionTokens: prompt.maxInstructionTokens, maxSourceTokens: prompt.maxSourceTokens },
  );
  return { prepared, instructionIds: [...(prepared.instructionIds as readonly number[])], ...(prepared.truncation ? { truncation: prepared.truncation } : {}) };
}

/** The model inputs of each line under a prepared instruction. */
export function prepareInputs(run: PreparedRun, inputs: readonly string[]): PreparedInputs {
  const studentIds: number[][] = [];
  const concatenatedIds: number[][] = [];
  const truncations: { input: number; report: TruncationReport }[] = [];
  inputs.forEach((input, i) => {
    const p = run.prepared.forInput(input);
    studentIds.push([...(p.studentInputIds as readonly number[])]);
    concatenatedIds.push([...(p.concatenatedIds as readonly number[])]);
    for (const report of p.truncations) truncations.push({ input: i, report });
  });
  return { studentIds, concatenatedIds, truncations };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One line a user reads for one cut: which text, how long, what went, and that training cut the same way. */
export function truncationWarning(r: TruncationReport, inputIndex?: number): string {
  const what = {
    instruction: 'the instruction (what the hypernetwork reads)',
    concatenated: `the instruction + input ${inputIndex === undefined ? '' : `${inputIndex + 1} `}prompt (what the no-adapter and concatenated models read)`,
    input: `input ${inputIndex === undefined ? '' : `${inputIndex + 1} `}(what TAGI's student reads)`,
  }[r.text];
  const cuts: string[] = [];
  const demos = r.droppedPositive + r.droppedNegative;
  if (demos > 0) cuts.push(`${plural(demos, 'demonstration')} dropped from the end`);
  if (r.definitionTokensCut > 0) cuts.push(`${plural(r.definitionTokensCut, 'token')} cut from the end of the definition`);
  if (r.inputTokensCut > 0) cuts.push(`${plural(r.inputTokensCut, 'token')} cut from the end of the input`);
  return `${what}: ${r.tokensBefore} tokens, more than the ${r.maxTokens} the run allows; ${cuts.join(', ')} (eos kept), as training cuts its texts — ${r.tokensAfter} tokens used`;
}

/** Warnings for every cut: the instruction's, then each input's. */
export function runWarnings(run: PreparedRun, inputs?: PreparedInputs): string[] {
  return [...(run.truncation ? [truncationWarning(run.truncation)] : []), ...(inputs?.truncations ?? []).map((t) => truncationWarning(t.report, t.input))];
}
