// Plain records shared by every loader. No tensors, no IO: these run in a browser.

/** One demonstration of a task: SNI's `Positive Examples` / `Negative Examples` entries. */
export interface TaskExample {
  readonly input: string;
  readonly output: string;
  /** Why the output is right (positive) or wrong (negative); SNI calls it `explanation`. */
  readonly explanation?: string;
}

/** One evaluation/training row of a task. `outputs` holds every acceptable reference. */
export interface TaskInstance {
  readonly id: string;
  readonly input: string;
  readonly outputs: readonly string[];
}

/**
 * A task with a natural-language instruction, the shape of a Super-NaturalInstructions task file.
 * `definition` is a list because SNI stores it as one (Tk-Instruct uses the first entry); the
 * embedded suite stores paraphrases there.
 */
export interface Task {
  readonly taskId: string;
  readonly category: string;
  readonly definition: readonly string[];
  readonly positiveExamples: readonly TaskExample[];
  readonly negativeExamples: readonly TaskExample[];
  readonly instances: readonly TaskInstance[];
  /** Licence of the instances (SNI `Instance License`), when known. */
  readonly license?: readonly string[];
  readonly source?: readonly string[];
  readonly domains?: readonly string[];
  readonly inputLanguage?: readonly string[];
  readonly outputLanguage?: readonly string[];
  readonly instructionLanguage?: readonly string[];
  /** Fields the loader did not interpret, kept as read (forward compatibility). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** A plain seq2seq pair: the model reads `input` and must produce one of `outputs`. */
export interface Seq2SeqExample {
  readonly id: string;
  readonly input: string;
  readonly outputs: readonly string[];
  readonly taskId?: string;
}

/** A rank-classification example: score each of `choices` as the target for `input`. */
export interface ChoiceExample {
  readonly id: string;
  readonly input: string;
  readonly choices: readonly string[];
  /** Index of the gold choice in `choices`, or -1 when the source has no label. */
  readonly label: number;
  readonly dataset?: string;
  readonly template?: string;
}

/** A document of raw text (hypernetwork pretraining corpora). */
export interface TextDocument {
  readonly id: string;
  readonly text: string;
}

/** Count of rows a loader skipped, and why, so nothing is dropped silently. */
export interface SkipReport {
  readonly skipped: number;
  readonly reasons: Readonly<Record<string, number>>;
}
