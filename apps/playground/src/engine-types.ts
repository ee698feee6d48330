// What the HTTP layer needs from the model side. The model runs in this Node server (not in the page).

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
  /** Wall time of the whole batch, milliseconds (adapter generation not included; see generateMs). */
  readonly ms?: number;
  readonly error?: string;
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

export interface PlaygroundEngine {
  open(dir: string): Promise<ModelSetInfo>;
  generate(dir: string, instruction: string): Promise<GeneratedAdapterInfo>;
  run(dir: string, instruction: string, adapterId: string | undefined, inputs: string[]): Promise<ModelRunResult[]>;
  diff(aId: string, bId: string): Promise<AdapterDiffModule[]>;
  /** Difference between a generated adapter and a peft adapter dir (e.g. a stage-1 teacher of the run). */
  diffWithPeft(aId: string, peftDir: string): Promise<AdapterDiffModule[]>;
  /** peft files of a generated adapter: adapter_config.json and adapter_model.safetensors. */
  exportPeft(id: string): Promise<{ name: string; data: Uint8Array }[]>;
  /** Held-out tasks of the embedded suite; `numPositive` demonstrations in the instruction (the run's prompt setting). */
  examples(opts?: { numPositive?: number }): Promise<{ task: string; category?: string; instruction: string; inputs: string[]; references?: string[] }[]>;
  dispose(): void;
}
