// The one instruction -> model input function. Training, evaluation, the CLI and the playground all
// call `prepareInstruction`, so the served hypernetwork reads exactly the text (and token ids) it was
// trained on: a task's definition and demonstrations, or a user's free text treated exactly as a
// definition, formatted as Tk-Instruct/TAGI do (prompts.ts, exact on ../shared/golden/sni), and cut to
// length by one policy that reports what it cut.
import { DatasetArgumentError } from './errors.js';
import { PROMPT_SETTINGS, buildPrompt, formatDefinition, formatExample, formatTaskInput, type PromptSetting } from './prompts.js';
import type { Task, TaskExample } from './types.js';

/** How an instruction is formatted (the Tk-Instruct / TAGI prompt settings). */
export interface InstructionFormat {
  /** Positive demonstrations, from the start of the task's list. Default 0. */
  readonly numPositive?: number;
  /** Negative demonstrations. Default 0. */
  readonly numNegative?: number;
  /** Append each demonstration's explanation. Default false. */
  readonly addExplanation?: boolean;
  /** Which of the task's definitions (the embedded suites hold paraphrases). Default 0. */
  readonly definitionIndex?: number;
}

/** A format, or the name of a paper setting: 'Def', 'Def+2Pos', 'Def+2Pos+2Neg', 'Def+2Pos+2Neg+explanation'. */
export type InstructionFormatSpec = InstructionFormat | PromptSetting;

/** What an instruction comes from: a task (definitions + demonstrations), or free text typed by a user. */
export type InstructionSource = (Pick<Task, 'definition'> & Partial<Pick<Task, 'taskId' | 'positiveExamples' | 'negativeExamples'>>) | string;

/** Anything that turns text into token ids, eos included (T5Tokenizer and PrunedTokenizer of @tagi/t5-model). */
export interface TokenEncoder {
  encode(text: string): readonly number[];
}

/** What one truncation cut. Returned beside the ids and passed to `onTruncate`: never silent. */
export interface TruncationReport {
  /** Which text was cut: the hypernetwork's instruction, the concatenated prompt, or the student input. */
  readonly text: 'instruction' | 'concatenated' | 'input';
  readonly taskId?: string;
  /** Demonstrations dropped (from the end: the last negative first) so the text fits. */
  readonly droppedPositive: number;
  readonly droppedNegative: number;
  /** Tokens cut from the end of the definition (after every demonstration was dropped). */
  readonly definitionTokensCut: number;
  /** Tokens cut from the end of the instance input (only when the input alone does not fit). */
  readonly inputTokensCut: number;
  readonly tokensBefore: number;
  readonly tokensAfter: number;
  readonly maxTokens: number;
}

export interface PrepareInstructionOptions {
  /** Tokenizer; without it only texts are produced and nothing is cut. */
  readonly encoder?: TokenEncoder;
  /** Token budget of the hypernetwork's instruction (eos included). Default: no limit. */
  readonly maxInstructionTokens?: number;
  /** Token budget of the student input and of the concatenated prompt (eos included). Default: no limit. */
  readonly maxSourceTokens?: number;
  /** The id the encoder appends and a cut must keep. Default 1 (T5's eos); null when the encoder appends none. */
  readonly eosTokenId?: number | null;
  /** Called once per truncation (callers warn with it). */
  readonly onTruncate?: (report: TruncationReport) => void;
}

/** The model inputs of one instance under a prepared instruction. */
export interface PreparedInput {
  /** What TAGI's student reads: the instance input alone (it never re-reads the instruction). */
  readonly studentInput: string;
  /** The Tk-Instruct prompt (definition + demonstrations + input) of the instruction-concatenated model. */
  readonly concatenated: string;
  /** With an encoder: the ids of each, within `maxSourceTokens` (whole when no budget is given); absent without an encoder. */
  readonly studentInputIds?: readonly number[];
  readonly concatenatedIds?: readonly number[];
  /** Truncations of this instance's texts (empty when nothing was cut). */
  readonly truncations: readonly TruncationReport[];
}

export interface PreparedInstruction {
  readonly origin: 'task' | 'text';
  readonly taskId?: string;
  readonly format: Required<InstructionFormat>;
  /** The definition used (for free text: the text without a leading "Definition:" label). */
  readonly definition: string;
  /** What the hypernetwork reads: "Definition: ….\n\n" + the demonstrations that fit. */
  readonly instruction: string;
  /**
   * With an encoder: the ids the hypernetwork reads (within `maxInstructionTokens`, or whole without a
   * budget); absent without an encoder. When the definition itself was cut these are the authority
   * (`instruction` is then the text before the cut).
   */
  readonly instructionIds?: readonly number[];
  /** Demonstrations in `instruction`. */
  readonly numPositive: number;
  readonly numNegative: number;
  /** Demonstrations the format asked for but the source does not have (free text has none). */
  readonly missingPositive: number;
  readonly missingNegative: number;
  /** The instruction's truncation, if it was cut. */
  readonly truncation?: TruncationReport;
  /** The inputs of one instance (student input, concatenated prompt, their ids). */
  forInput(input: string): PreparedInput;
}

const DEFINITION_LABEL = /^\s*definition\s*:\s*/i;

/** Resolve a setting name or partial format to a full, validated format. */
export function resolveInstructionFormat(spec: InstructionFormatSpec = {}): Required<InstructionFormat> {
  let f: InstructionFormat;
  if (typeof spec === 'string') {
    if (!Object.hasOwn(PROMPT_SETTINGS, spec))
      throw new DatasetArgumentError('format', `a format object or one of ${Object.keys(PROMPT_SETTINGS).join(', ')}`, spec);
    f = PROMPT_SETTINGS[spec];
  } else {
    f = spec;
  }
  const count = (key: 'numPositive' | 'numNegative' | 'definitionIndex'): number => {
    const v = f[key] ?? 0;
    if (!Number.isInteger(v) || v < 0) throw new DatasetArgumentError(`format.${key}`, 'a non-negative integer', v);
    return v;
  };
  const addExplanation = f.addExplanation ?? false;
  if (typeof addExplanation !== 'boolean') throw new DatasetArgumentError('format.addExplanation', 'a boolean', addExplanation);
  return { numPositive: count('numPositive'), numNegative: count('numNegative'), addExplanation, definitionIndex: count('definitionIndex') };
}

function checkBudget(name: string, v: number | undefined, eos: number | null): number | undefined {
  if (v === undefined) return undefined;
  const min = eos === null ? 1 : 2;
  if (!Number.isInteger(v) || v < min) throw new DatasetArgumentError(name, `an integer >= ${min} (room for a token${eos === null ? '' : ' and eos'})`, v);
  return v;
}

/** Cut ids to `max`, keeping a trailing eos. */
function cutIds(ids: readonly number[], max: number, eos: number | null): number[] {
  if (ids.length <= max) return [...ids];
  const endsWithEos = eos !== null && ids[ids.length - 1] === eos;
  return endsWithEos ? [...ids.slice(0, max - 1), eos] : ids.slice(0, max);
}
function withoutEos(ids: readonly number[], eos: number | null): number[] {
  return eos !== null && ids[ids.length - 1] === eos ? ids.slice(0, -1) : [...ids];
}

/** A task's parts an instruction is made of (free text becomes a task with one definition and no demonstrations). */
type InstructionTask = Pick<Task, 'definition' | 'positiveExamples' | 'negativeExamples'> & { taskId?: string };

/** The source as a task, checked: free text without its "Definition:" label, a task with the chosen definition present. */
function instructionTask(source: InstructionSource, fmt: Required<InstructionFormat>): { task: InstructionTask; origin: 'task' | 'text' } {
  if (typeof source === 'string') {
    const text = source.replace(DEFINITION_LABEL, '');
    if (text.trim() === '') throw new DatasetArgumentError('instruction', 'a non-empty instruction (the text of a task definition)', source);
    if (fmt.definitionIndex !== 0)
      throw new DatasetArgumentError('format.definitionIndex', '0 for a free-text instruction (it is one definition)', fmt.definitionIndex);
    return { task: { definition: [text], positiveExamples: [], negativeExamples: [] }, origin: 'text' };
  }
  if (source === null || typeof source !== 'object' || !Array.isArray(source.definition))
    throw new DatasetArgumentError('source', 'a task (with a definition list) or an instruction string', source);
  const where = `task${source.taskId === undefined ? '' : ` "${source.taskId}"`}.definition[${fmt.definitionIndex}]`;
  const def = source.definition[fmt.definitionIndex];
  if (def === undefined)
    throw new DatasetArgumentError('format.definitionIndex', `an index below ${source.definition.length} (${where} does not exist)`, fmt.definitionIndex);
  if (typeof def !== 'string' || def.trim() === '') throw new DatasetArgumentError(where, 'a non-empty definition', def);
  const task = {
    definition: source.definition,
    positiveExamples: source.positiveExamples ?? [],
    negativeExamples: source.negativeExamples ?? [],
    ...(source.taskId === undefined ? {} : { taskId: source.taskId }),
  };
  return { task, origin: 'task' };
}

/** What the length policy works on: one instruction's texts, its tokenizer, and where its cuts are reported. */
interface PolicyInputs {
  readonly enc: TokenEncoder | undefined;
  readonly eos: number | null;
  /** "Definition: ….\n\n" */
  readonly defText: string;
  /** The first `p` positive and `n` negative demonstrations, formatted. */
  readonly demoText: (p: number, n: number) => string;
  readonly positives: number;
  readonly negatives: number;
  /** Records one cut (with the task id) and passes it to `onTruncate`. */
  readonly report: (r: Omit<TruncationReport, 'taskId'>) => TruncationReport;
}

/** The demonstrations kept, the ids (with an encoder) and the cut, if any, of one text under the policy. */
interface Fitted {
  readonly p: number;
  readonly n: number;
  readonly ids?: number[];
  readonly truncation?: TruncationReport;
}

/**
 * The one length policy: with `tail` (a fixed text after the demonstrations, e.g. the task input)
 * drop demonstrations from the end until encode(def + demos + tail) fits, then cut the definition.
 */
function fitToBudget(x: PolicyInputs, kind: 'instruction' | 'concatenated', max: number | undefined, tail: string): Fitted {
  const { enc, eos, defText, demoText, positives, negatives } = x;
  let p = positives;
  let n = negatives;
  if (enc === undefined) return { p, n };
  const first = [...enc.encode(defText + demoText(p, n) + tail)];
  // no budget: the whole text's ids, nothing cut (ids come with an encoder whether or not a budget is set)
  if (max === undefined) return { p, n, ids: first };
  let ids = first;
  while (ids.length > max && p + n > 0) {
    if (n > 0) n--;
    else p--;
    ids = [...enc.encode(defText + demoText(p, n) + tail)];
  }
  if (ids.length <= max) {
    return p === positives && n === negatives
      ? { p, n, ids }
      : {
          p,
          n,
          ids,
          truncation: x.report({
            text: kind,
            droppedPositive: positives - p,
            droppedNegative: negatives - n,
            definitionTokensCut: 0,
            inputTokensCut: 0,
            tokensBefore: first.length,
            tokensAfter: ids.length,
            maxTokens: max,
          }),
        };
  }
  let cut: number[];
  let definitionTokensCut: number;
  let inputTokensCut = 0;
  if (tail === '') {
    cut = cutIds(ids, max, eos);
    definitionTokensCut = ids.length - cut.length;
  } else {
    // Keep the whole tail (the instance input and eos); cut the definition's end.
    const defIds = withoutEos([...enc.encode(defText)], eos);
    const tailIds = [...enc.encode(tail)];
    const room = max - tailIds.length;
    if (room >= 0) {
      cut = [...defIds.slice(0, room), ...tailIds];
      definitionTokensCut = defIds.length - Math.min(room, defIds.length);
    } else {
      // The input alone does not fit: no definition, and the input is cut like a student input.
      cut = cutIds(tailIds, max, eos);
      definitionTokensCut = defIds.length;
      inputTokensCut = tailIds.length - cut.length;
    }
  }
  return {
    p,
    n,
    ids: cut,
    truncation: x.report({
      text: kind,
      droppedPositive: positives - p,
      droppedNegative: negatives - n,
      definitionTokensCut,
      inputTokensCut,
      tokensBefore: first.length,
      tokensAfter: cut.length,
      maxTokens: max,
    }),
  };
}

/**
 * Prepare an instruction once (per task), then the inputs of each instance with `forInput`.
 *
 * - A string is free text typed by a user and is treated exactly as a task whose only definition it
 *   is (a leading "Definition:" label is dropped, so it is not doubled): the same definition as a task
 *   or as text gives the same instruction and ids.
 * - Length policy (with an encoder and a budget), the same for the instruction and the concatenated
 *   prompt: drop demonstrations from the end (last negative first, then positives) until the text
 *   fits; then cut the definition's last tokens, keeping eos (and, in the concatenated prompt, the
 *   whole instance input). The student input is cut from its end, keeping eos. Every cut is reported.
 * - An empty or whitespace-only instruction is a `DatasetArgumentError` naming where it came from.
 */
export function prepareInstruction(
  source: InstructionSource,
  format: InstructionFormatSpec = {},
  options: PrepareInstructionOptions = {},
): PreparedInstruction {
  const fmt = resolveInstructionFormat(format);
  const eos = options.eosTokenId === undefined ? 1 : options.eosTokenId;
  const maxInstruction = checkBudget('maxInstructionTokens', options.maxInstructionTokens, eos);
  const maxSource = checkBudget('maxSourceTokens', options.maxSourceTokens, eos);
  const enc = options.encoder;
  if (enc !== undefined && typeof enc.encode !== 'function') throw new DatasetArgumentError('encoder', 'an object with encode(text): number[]', enc);

  const { task, origin } = instructionTask(source, fmt);
  const taskId = task.taskId;
  const definition = task.definition[fmt.definitionIndex] as string;
  const positives = task.positiveExamples.slice(0, fmt.numPositive);
  const negatives = task.negativeExamples.slice(0, fmt.numNegative);
  const defText = formatDefinition(definition);
  const demoText = (p: number, n: number): string =>
    positives
      .slice(0, p)
      .map((e: TaskExample, i) => formatExample(e, 'Positive', i, fmt.addExplanation))
      .join('') +
    negatives
      .slice(0, n)
      .map((e: TaskExample, i) => formatExample(e, 'Negative', i, fmt.addExplanation))
      .join('');
  const report = (r: Omit<TruncationReport, 'taskId'>): TruncationReport => {
    const full: TruncationReport = { ...r, ...(taskId === undefined ? {} : { taskId }) };
    options.onTruncate?.(full);
    return full;
  };
  const policy: PolicyInputs = { enc, eos, defText, demoText, positives: positives.length, negatives: negatives.length, report };

  const ins = fitToBudget(policy, 'instruction', maxInstruction, '');
  const instruction = defText + demoText(ins.p, ins.n);
  const promptFormat = { numPositive: fmt.numPositive, numNegative: fmt.numNegative, addExplanation: fmt.addExplanation, definitionIndex: fmt.definitionIndex };
  return {
    origin,
    ...(taskId === undefined ? {} : { taskId }),
    format: fmt,
    definition,
    instruction,
    ...(ins.ids === undefined ? {} : { instructionIds: ins.ids }),
    numPositive: ins.p,
    numNegative: ins.n,
    missingPositive: fmt.numPositive - positives.length,
    missingNegative: fmt.numNegative - negatives.length,
    ...(ins.truncation === undefined ? {} : { truncation: ins.truncation }),
    forInput(input: string): PreparedInput {
      if (typeof input !== 'string') throw new DatasetArgumentError('input', 'a string (the instance input)', input);
      const truncations: TruncationReport[] = [];
      const concat = fitToBudget(policy, 'concatenated', maxSource, formatTaskInput(input));
      if (concat.truncation !== undefined) truncations.push(concat.truncation);
      // Without a cut, the prompt is exactly buildPrompt's (the golden Tk-Instruct string).
      const concatenated =
        concat.p === positives.length && concat.n === negatives.length
          ? buildPrompt({ taskId: taskId ?? '', category: '', instances: [], ...task }, input, promptFormat).source
          : defText + demoText(concat.p, concat.n) + formatTaskInput(input);
      let studentInputIds: number[] | undefined;
      if (enc !== undefined) {
        const ids = [...enc.encode(input)];
        studentInputIds = maxSource === undefined ? ids : cutIds(ids, maxSource, eos);
        if (maxSource !== undefined && studentInputIds.length < ids.length) {
          truncations.push(
            report({
              text: 'input',
              droppedPositive: 0,
              droppedNegative: 0,
              definitionTokensCut: 0,
              inputTokensCut: ids.length - studentInputIds.length,
              tokensBefore: ids.length,
              tokensAfter: studentInputIds.length,
              maxTokens: maxSource,
            }),
          );
        }
      }
      return {
        studentInput: input,
        concatenated,
        ...(studentInputIds === undefined ? {} : { studentInputIds }),
        ...(concat.ids === undefined ? {} : { concatenatedIds: concat.ids }),
        truncations,
      };
    },
  };
}

/** TAGI's split of one instance: instruction text for the hypernetwork, bare input for the student. */
export interface TagiExample {
  readonly taskId: string;
  readonly instanceId: string;
  /** Definition + k positive examples (Tk-Instruct formatting), no task input. */
  readonly instruction: string;
  /** The instance input alone: the student never re-reads the instruction. */
  readonly studentInput: string;
  /** Tk-Instruct concatenated prompt (the instruction-concatenated teacher/baseline input). */
  readonly concatenated: string;
  readonly outputs: readonly string[];
}

/** `tagiExamples` takes a format; `addDefinition: true` is accepted for callers written against `PromptOptions`. */
export type TagiExampleOptions = InstructionFormat & { readonly addDefinition?: boolean };

/** The TAGI views of every instance of a task, through `prepareInstruction` (texts only, no cut). */
export function tagiExamples(task: Task, format: TagiExampleOptions | PromptSetting = {}): TagiExample[] {
  let spec: InstructionFormatSpec = format;
  if (typeof format === 'object') {
    const { addDefinition, ...rest } = format;
    // A prompt without its definition is not an instruction the hypernetwork could be given.
    if (addDefinition === false) throw new DatasetArgumentError('options.addDefinition', 'true or absent (the definition is the instruction)', addDefinition);
    const legacy = Object.keys(rest).filter((k) => !['numPositive', 'numNegative', 'addExplanation', 'definitionIndex'].includes(k));
    if (legacy.length > 0)
      throw new DatasetArgumentError(
        `options.${legacy[0] as string}`,
        'no such option (tagiExamples takes numPositive, numNegative, addExplanation, definitionIndex)',
        (rest as Record<string, unknown>)[legacy[0] as string],
      );
    spec = rest;
  }
  const prepared = prepareInstruction(task, spec);
  return task.instances.map((inst) => {
    const p = prepared.forInput(inst.input);
    return {
      taskId: task.taskId,
      instanceId: inst.id,
      instruction: prepared.instruction,
      studentInput: p.studentInput,
      concatenated: p.concatenated,
      outputs: inst.outputs,
    };
  });
}
