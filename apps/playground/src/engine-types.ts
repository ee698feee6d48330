// What the HTTP layer needs from the model side. The model runs in this Node server (not in the page).
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
  /** Why it is not available (shown in the page as it is). */
  readonly reason?: string;
}

export interface ModelSetInfo {
  readonly dir: string;
  readonly kind: 'run' | 't5';
  readonly models: Record<ModelName, ModelSlot>;
  /** Where inference runs; always the Node server here. */
  readonly where: 'node-server';
  readonly backend?: string;
  readonly maxInstructionTokens: number;
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
  readonly instructionTokens: number;
  readonly generateMs: number;
  readonly modules: AdapterModuleStats[];
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
      readonly base: { readonly dir: string; readonly config: string; readonly weights: string; readonly tokenizer: string; readonly tokenizerConfig: string | null; readonly vocab: string | null };
      readonly hypernet: { readonly dir: string; readonly config: string; readonly weights: string };
      readonly maxInstructionTokens: number;
      readonly limits: RunLimits;
    };

export interface PlaygroundEngine {
  /** Input and output lengths of every run (an in-page runner is given the same). */
  readonly limits: RunLimits;
  open(dir: string): Promise<ModelSetInfo>;
  generate(dir: string, instruction: string): Promise<GeneratedAdapterInfo>;
  run(dir: string, instruction: string, adapterId: string | undefined, inputs: string[]): Promise<ModelRunResult[]>;
  /** Which files an in-page runner needs to run this dir's TAGI model (paths on this machine). */
  inPageFiles(dir: string): Promise<InPageFiles>;
  /** TAGI's next-token logits along the given decoder rows (teacher forcing), with a generated adapter. */
  logits(dir: string, instruction: string, adapterId: string, inputs: string[], decoderIds: number[][]): Promise<Logits>;
  diff(aId: string, bId: string): Promise<AdapterDiffModule[]>;
  /** Difference between a generated adapter and a peft adapter dir (e.g. a stage-1 teacher of the run). */
  diffWithPeft(aId: string, peftDir: string): Promise<AdapterDiffModule[]>;
  /** peft files of a generated adapter: adapter_config.json and adapter_model.safetensors. */
  exportPeft(id: string): Promise<{ name: string; data: Uint8Array }[]>;
  /** Held-out tasks of the embedded suite; `numPositive` demonstrations in the instruction (the run's prompt setting). */
  examples(opts?: { numPositive?: number }): Promise<SuiteExample[]>;
  dispose(): void;
}
