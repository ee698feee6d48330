// The trainer's one call site of @tagi/datasets' `prepareInstruction`, the one instruction → model input
// function that the playground calls too: training, evaluation and `tagi generate` get the hypernetwork's
// instruction ids, the student's input ids and the instruction-concatenated prompt's ids from here, so
// the served model reads what it was trained on. A task gives its definition (+ the first `numPos`
// positive examples); text typed by a user is treated exactly as a task definition. One length policy
// (datasets'): demonstrations are dropped from the end first, then the definition is cut, eos kept — and
// every cut is reported, so callers warn.
import { type PreparedInstruction, type Task, type TokenEncoder, type TruncationReport, prepareInstruction } from '@tagi/datasets';

/** A tokenizer that appends eos (T5Tokenizer, PrunedTokenizer). */
export interface InstructionTokenizer extends TokenEncoder {
  readonly eosTokenId: number;
}

export type { TruncationReport } from '@tagi/datasets';

/** One prepared instruction per task (ids computed once), and the inputs of its instances. */
export class InstructionInputs {
  private readonly prepared = new Map<string, PreparedInstruction>();
  /** Every truncation so far (callers summarise them in one warning). */
  readonly truncations: TruncationReport[] = [];

  constructor(
    private readonly tok: InstructionTokenizer,
    /** Positive demonstrations in the instruction (config prompt.numPos). */
    private readonly numPos: number,
    /** Token budget of student inputs and concatenated prompts (config prompt.maxSourceLength). */
    private readonly maxSourceTokens: number,
    /** Token budget of the hypernetwork's instruction (its max_instruction_length); default maxSourceTokens. */
    private readonly maxInstructionTokens = maxSourceTokens,
  ) {}

  private of(source: Task | string): PreparedInstruction {
    const key = typeof source === 'string' ? `\u0000text\u0000${source}` : source.taskId;
    let p = this.prepared.get(key);
    if (p === undefined) {
      p = prepareInstruction(
        source,
        { numPositive: this.numPos },
        { encoder: this.tok, eosTokenId: this.tok.eosTokenId, maxInstructionTokens: this.maxInstructionTokens, maxSourceTokens: this.maxSourceTokens, onTruncate: (r) => this.truncations.push(r) },
      );
      this.prepared.set(key, p);
    }
    return p;
  }

  /** The hypernetwork's input ids for a task, or for a user's free text (a definition). */
  instructionIds(source: Task | string): number[] {
    return [...(this.of(source).instructionIds as readonly number[])];
  }

  /** The student's input ids for an instance of `task`: the input alone. */
  studentInputIds(task: Task, input: string): number[] {
    return [...(this.of(task).forInput(input).studentInputIds as readonly number[])];
  }

  /** The instruction-concatenated prompt's ids (Tk-Instruct: definition + demonstrations + input). */
  concatenatedIds(task: Task, input: string): number[] {
    return [...(this.of(task).forInput(input).concatenatedIds as readonly number[])];
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
    return `${parts.join(', ')} exceeded their token budget (prompt.max-source-length ${this.maxSourceTokens}${this.maxInstructionTokens !== this.maxSourceTokens ? `, instructions ${this.maxInstructionTokens}` : ''}): ${demos} demonstrations dropped from the end, then definitions cut (eos kept)`;
  }
}

/** The hypernetwork's input for one instruction (a task or free text): its ids and what was cut. */
export function hypernetInstructionIds(tok: InstructionTokenizer, source: Task | string, numPos: number, maxTokens: number): { ids: number[]; truncation?: TruncationReport } {
  const inputs = new InstructionInputs(tok, numPos, maxTokens, maxTokens);
  const ids = inputs.instructionIds(source);
  const truncation = inputs.truncations[0];
  return { ids, ...(truncation ? { truncation } : {}) };
}

/** The hypernetwork's instruction text for a task (no token budget): for vocabularies and documentation. */
export function instructionText(task: Task, numPos: number): string {
  return prepareInstruction(task, { numPositive: numPos }).instruction;
}
