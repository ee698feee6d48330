// What the HTTP layer needs from the model side. The model runs in this Node server (not in the page).
import type { TruncationReport } from '@tagi/datasets';
import type { FusionKind } from '@tagi/hypernet';
import type { RunPrompt, TaskSource } from './instruction';
import type { Logits, RunLimits } from './model-runner';
import type { AnswerScore } from './scoring';

export type ModelName = 'tagi' | 'base' | 'concat';

export const MODEL_LABELS: Record<ModelName, string> = {
  tagi: 'Generated adapter (TAGI hypernet)',
  base: 'No adapter (base T5 reading the instruction + input)',
  concat: 'Instruction-concatenated baseline',
};

export interface ModelSlot {
  readonly available: boolean;
  /** Checkpoint dir it is loaded from, when found. */
  readonly dir?: string;
  /** Its role in the run's trainer_state.json ('base-model', 'hypernet-tagi', 'multitask-adapter', …). */
  readonly role?: string;
  /** Why it is not available (shown in the page as it is). */
  readonly reason?: string;
}

/** What the TAGI column's hypernetwork is, read from its hypernet_config.json. */
export interface HypernetInfo {
  readonly fusion: FusionKind;
  /** Whether base + the exported peft files alone reproduce the TAGI model (fusion 'none' only). */
  readonly peftReproducesTagi: boolean;
  readonly rank: number;
}

export interface ModelSetInfo {
  readonly dir: string;
  readonly kind: 'run' | 't5';
  readonly models: Record<ModelName, ModelSlot>;
  /** Where inference runs; always the Node server here. */
  readonly where: 'node-server';
  readonly backend?: string;
  /** The run's prompt format and token budgets: every column's input is prepared with them. */
  readonly prompt: RunPrompt;
  readonly hypernet?: HypernetInfo;
  /** Why the run's models could not be read from its trainer_state.json (a version-1 run, …). */
  readonly runState?: string;
}

/** Where an instruction comes from: text typed by the user, or a suite task (formatted as training formats it). */
export interface InstructionRequest {
  readonly instruction: string;
  /** A task id of the embedded suite; used only while `instruction` is that task's instruction text unchanged. */
  readonly task?: string;
}

/** The ids every column reads, as prepared by @tagi/datasets' prepareInstruction with the run's settings. */
export interface PreparedIds {
  /** The suite task the instruction was prepared from, or undefined for free text. */
  readonly task?: string;
  readonly instructionIds: number[];
  readonly studentIds: number[][];
  readonly concatenatedIds: number[][];
  /** Every cut the length policy made (the instruction's, then each input's), as one line each. */
  readonly warnings: string[];
}

export interface AdapterModuleStats {
  readonly module: string;
  readonly rank: number;
  /** Frobenius norm of the update scaling·B·A. */
  readonly deltaNorm: number;
  /** Effective rank of scaling·B·A (exp of the entropy of its normalised singular values). */
  readonly effectiveRank: number;
  readonly normA?: number;
  readonly normB?: number;
}

export interface GeneratedAdapterInfo {
  readonly id: string;
  readonly dir: string;
  readonly instruction: string;
  /** The suite task it was prepared from (undefined: free text). */
  readonly task?: string;
  /** The ids the hypernetwork read (what training computes for the same instruction). */
  readonly instructionIds: number[];
  readonly instructionTokens: number;
  /** The instruction's cut, when it was longer than the hypernetwork reads. */
  readonly truncation?: TruncationReport;
  /** What the user should know about the cut (empty when nothing was cut). */
  readonly warnings: string[];
  readonly generateMs: number;
  /** Role of the hypernetwork in the run ('hypernet-tagi', or a fallback). */
  readonly hypernetRole?: string;
  readonly fusion: FusionKind;
  readonly peftReproducesTagi: boolean;
  readonly modules: AdapterModuleStats[];
}

export interface RunResults {
  readonly results: ModelRunResult[];
  /** Cuts of the instruction and of the inputs (shown above the table). */
  readonly warnings: string[];
}

/** A generated adapter's self-describing export: the files `tagi generate` writes, under one folder name. */
export interface AdapterExport {
  readonly folder: string;
  readonly files: { readonly name: string; readonly data: Uint8Array }[];
}

export interface ModelRunResult {
  readonly model: ModelName;
  readonly outputs?: string[];
  /** Generated token ids per output (decoder start id first), to compare runs exactly. */
  readonly tokens?: number[][];
  /** Per output its exact match and ROUGE-L against the expected outputs, where the request gave them. */
  readonly scores?: (AnswerScore | null)[];
  /** Wall time of the whole batch, milliseconds (adapter generation not included; see generateMs). */
  readonly ms?: number;
  readonly error?: string;
}

/** A held-out task of the embedded suite as the Try page offers it. */
export interface SuiteExample {
  readonly task: string;
  readonly category?: string;
  readonly instruction: string;
  readonly inputs: string[];
  /** Per input every accepted output (SNI scores take the best over them). */
  readonly references: string[][];
  /** The task's parts its instruction is made of (definition, the demonstrations the run uses): the in-page runner prepares it the same way. */
  readonly source: TaskSource;
}

export interface AdapterDiffModule {
  readonly module: string;
  /** ‖ΔW_a − ΔW_b‖_F */
  readonly diffNorm: number;
  /** ‖ΔW_a − ΔW_b‖_F / max(‖ΔW_a‖_F, ‖ΔW_b‖_F) */
  readonly relative: number;
  /** cosine similarity of the flattened ΔW_a and ΔW_b */
  readonly cosine: number;
}

/** The checkpoint files the in-page runner fetches for a dir, or why it cannot run there. */
export type InPageFiles =
  | { readonly available: false; readonly reason: string }
  | {
      readonly available: true;
      readonly base: {
        readonly dir: string;
        readonly config: string;
        readonly weights: string;
        readonly tokenizer: string;
        readonly tokenizerConfig: string | null;
        readonly vocab: string | null;
      };
      readonly hypernet: { readonly dir: string; readonly config: string; readonly weights: string };
      readonly prompt: RunPrompt;
      readonly limits: RunLimits;
    };

export interface PlaygroundEngine {
  /** Input and output lengths of every run (an in-page runner is given the same). */
  readonly limits: RunLimits;
  open(dir: string): Promise<ModelSetInfo>;
  /** The ids each column would read for these inputs (and the warnings of every cut). */
  prepare(dir: string, request: InstructionRequest, inputs: string[]): Promise<PreparedIds>;
  generate(dir: string, request: InstructionRequest): Promise<GeneratedAdapterInfo>;
  run(dir: string, request: InstructionRequest, adapterId: string | undefined, inputs: string[]): Promise<RunResults>;
  /** Which files an in-page runner needs to run this dir's TAGI model (paths on this machine). */
  inPageFiles(dir: string): Promise<InPageFiles>;
  /** TAGI's next-token logits along the given decoder rows (teacher forcing), with a generated adapter. */
  logits(dir: string, request: InstructionRequest, adapterId: string, inputs: string[], decoderIds: number[][]): Promise<Logits>;
  diff(aId: string, bId: string): Promise<AdapterDiffModule[]>;
  /** Difference between a generated adapter and a peft adapter dir (e.g. a stage-1 teacher of the run). */
  diffWithPeft(aId: string, peftDir: string): Promise<AdapterDiffModule[]>;
  /** The self-describing export of a generated adapter: the files `tagi generate` writes (@tagi/hypernet's taskAdapterFiles). */
  exportAdapter(id: string): Promise<AdapterExport>;
  /** Held-out tasks of the embedded suite; `numPositive` demonstrations in the instruction (the run's prompt setting). */
  examples(opts?: { numPositive?: number }): Promise<SuiteExample[]>;
  dispose(): void;
}
