// The inputs of a run's instructions, built once from its config's `prompt` object: the hypernetwork's
// instruction ids, the student's input ids and the instruction-concatenated prompt's ids, each through
// `prepareInstruction` (instruction.ts) and so under its one length policy — demonstrations dropped from the
// end first, then the definition cut, eos kept — with every cut reported, so callers warn. Training,
// evaluation and `tagi generate` all build one of these, so the served model reads what it was trained on.
// A task gives its definition (+ the first `numPos` positive examples); text typed by a user is treated
// exactly as a task definition.
import { DatasetArgumentError } from './errors.js';
import { type InstructionSource, type PreparedInstruction, type TokenEncoder, type TruncationReport, prepareInstruction } from './instruction.js';

/** A tokenizer that appends eos (T5Tokenizer, PrunedTokenizer of @tagi/t5-model). */
export interface InstructionTokenizer extends TokenEncoder {
  readonly eosTokenId: number;
}

/**
 * How a run formats and cuts its instructions: the trainer config's `prompt` object (its other keys are
 * ignored), with the hypernetwork's own instruction budget when there is one.
 */
export interface InstructionPrompt {
  /** Positive demonstrations in a task's instruction (Tk-Instruct "Def + 2 Pos" = 2; free text has none). */
  readonly numPos: number;
  /** Token budget (eos included) of student inputs and concatenated prompts. */
  readonly maxSourceLength: number;
  /** Token budget of the hypernetwork's instruction (its max_instruction_length). Default: maxSourceLength. */
  readonly maxInstructionLength?: number;
}

/** A task to prepare (its id is the cache key), or free text typed by a user. */
export type InstructionInputsSource = (Exclude<InstructionSource, string> & { readonly taskId: string }) | string;

function checkCount(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new DatasetArgumentError(name, `an integer >= ${min}`, v);
  return v;
}

/** One prepared instruction per task (ids computed once), and the inputs of its instances. */
export class InstructionInputs {
  private readonly prepared = new Map<string, PreparedInstruction>();
  /** Every truncation so far (callers summarise them in one warning). */
  readonly truncations: TruncationReport[] = [];
  readonly numPos: number;
  readonly maxSourceLength: number;
  readonly maxInstructionLength: number;

  constructor(
    private readonly tok: InstructionTokenizer,
    prompt: InstructionPrompt,
  ) {
    if (tok === null || typeof tok !== 'object' || typeof tok.encode !== 'function')
      throw new DatasetArgumentError('tok', 'a tokenizer with encode(text): number[]', tok);
    checkCount('tok.eosTokenId', tok.eosTokenId, 0);
    if (prompt === null || typeof prompt !== 'object')
      throw new DatasetArgumentError('prompt', 'an object { numPos, maxSourceLength, maxInstructionLength? }', prompt);
    this.numPos = checkCount('prompt.numPos', prompt.numPos, 0);
    // room for a token and eos, as prepareInstruction's budgets
    this.maxSourceLength = checkCount('prompt.maxSourceLength', prompt.maxSourceLength, 2);
    this.maxInstructionLength =
      prompt.maxInstructionLength === undefined ? this.maxSourceLength : checkCount('prompt.maxInstructionLength', prompt.maxInstructionLength, 2);
  }

  /** The prepared instruction of a task, or of a user's free text (a definition): computed once, then cached. */
  prepare(source: InstructionInputsSource): PreparedInstruction {
    const key = typeof source === 'string' ? `\u0000text\u0000${source}` : source.taskId;
    let p = this.prepared.get(key);
    if (p === undefined) {
      p = prepareInstruction(
        source,
        { numPositive: this.numPos },
        {
          encoder: this.tok,
          eosTokenId: this.tok.eosTokenId,
          maxInstructionTokens: this.maxInstructionLength,
          maxSourceTokens: this.maxSourceLength,
          onTruncate: (r) => this.truncations.push(r),
        },
      );
      this.prepared.set(key, p);
    }
    return p;
  }

  /** The hypernetwork's input ids for a task, or for a user's free text (a definition). */
  instructionIds(source: InstructionInputsSource): number[] {
    return [...(this.prepare(source).instructionIds as readonly number[])];
  }

  /** The student's input ids for an instance of `task`: the input alone. */
  studentInputIds(task: InstructionInputsSource, input: string): number[] {
    return [...(this.prepare(task).forInput(input).studentInputIds as readonly number[])];
  }

  /** The instruction-concatenated prompt's ids (Tk-Instruct: definition + demonstrations + input). */
  concatenatedIds(task: InstructionInputsSource, input: string): number[] {
    return [...(this.prepare(task).forInput(input).concatenatedIds as readonly number[])];
  }

  /** One line summarising the truncations so far, or undefined when nothing was cut. */
  summary(): string | undefined {
    if (this.truncations.length === 0) return undefined;
    const by = (kind: TruncationReport['text']) => this.truncations.filter((t) => t.text === kind);
    const parts = [
      [by('instruction'), 'hypernetwork instructions'],
      [by('concatenated'), 'concatenated prompts'],
      [by('input'), 'instance inputs'],
    ]
      .filter(([list]) => (list as TruncationReport[]).length > 0)
      .map(([list, what]) => `${(list as TruncationReport[]).length} ${what as string}`);
    const demos = this.truncations.reduce((n, t) => n + t.droppedPositive + t.droppedNegative, 0);
    // the budgets by the names a trainer user sets them with (--prompt.max-source-length)
    return `${parts.join(', ')} exceeded their token budget (prompt.max-source-length ${this.maxSourceLength}${this.maxInstructionLength !== this.maxSourceLength ? `, instructions ${this.maxInstructionLength}` : ''}): ${demos} demonstrations dropped from the end, then definitions cut (eos kept)`;
  }
}

/**
 * The hypernetwork's input for one instruction (a task or free text) within `maxInstructionLength`: its ids
 * and what was cut (what `tagi generate` writes into an adapter's tagi_adapter.json).
 */
export function hypernetInstructionIds(
  tok: InstructionTokenizer,
  source: InstructionInputsSource,
  prompt: { readonly numPos: number; readonly maxInstructionLength: number },
): { ids: number[]; truncation?: TruncationReport } {
  const inputs = new InstructionInputs(tok, {
    numPos: prompt.numPos,
    maxSourceLength: prompt.maxInstructionLength,
    maxInstructionLength: prompt.maxInstructionLength,
  });
  const ids = inputs.instructionIds(source);
  const truncation = inputs.truncations[0];
  return { ids, ...(truncation ? { truncation } : {}) };
}

/** The hypernetwork's instruction text for a task (no token budget): for vocabularies and documentation. */
export function instructionText(task: Exclude<InstructionSource, string>, numPos: number): string {
  return prepareInstruction(task, { numPositive: numPos }).instruction;
}
