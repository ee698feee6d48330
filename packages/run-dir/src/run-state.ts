// The one run-state file of a training run directory, `trainer_state.json`: its schema and parser (the
// reader and writer that use them are in node.ts). The trainer writes it; `tagi inspect`, `--resume` and the playground read it. It says which
// stages of the run are done or still running (with the directory of their checkpoints) and, by role,
// which artefacts the run produced or was given — so readers never guess roles from directory names.
//
//   {
//     "format": "tagi-run", "version": 2, "command": "demo", "configHash": "9f0c…",
//     "inputs":  [{ "role": "base-model", "kind": "t5", "path": "/models/t5-small-lm-adapt" }],
//     "stages": {
//       "base":              { "status": "done", "step": 500, "totalSteps": 500, "seconds": 61.2,
//                              "outputs": [{ "role": "base-model", "kind": "t5", "path": "base-model" }] },
//       "hypernet-pretrain": { "status": "running", "step": 40, "totalSteps": 100,
//                              "checkpoints": "checkpoints/hypernet-pretrain" }
//     }
//   }
import { RUN_FILES } from './files.js';

export const RUN_STATE_FILE = RUN_FILES.state;
export const RUN_STATE_FORMAT = 'tagi-run';
export const RUN_STATE_VERSION = 2;

/** What a directory holds: an HF T5 dir, a peft LoRA dir, a hypernet dir. */
export type ArtifactKind = 't5' | 'peft' | 'hypernet';
const ARTIFACT_KINDS: readonly ArtifactKind[] = ['t5', 'peft', 'hypernet'];

/** A directory a run produced or was given, and what it is for. */
export interface RunArtifact {
  /**
   * Its role in the run: 'base-model', 'teacher', 'multitask-adapter' (the instruction-concatenated
   * baseline), 'hypernet-pretrained', 'hypernet-tagi', 'hypernet-hint', or another name a trainer documents.
   */
  readonly role: string;
  readonly kind: ArtifactKind;
  /** Relative to the run dir for what the run wrote; absolute for an input given by path. */
  readonly path: string;
  /** Distinguishes artefacts of one role (a teacher's task or category). */
  readonly name?: string;
}

/** One stage of a run. */
export interface StageState {
  readonly status: 'running' | 'done';
  /** Optimiser updates completed (0 for stages without training). */
  readonly step: number;
  readonly totalSteps: number;
  /** A running stage's checkpoint directory (a DirCheckpointStore), relative to the run dir. */
  readonly checkpoints?: string;
  /** What a finished stage wrote. */
  readonly outputs?: readonly RunArtifact[];
  /** Summary figures of a finished stage (final loss, parameter count, ...). */
  readonly summary?: Readonly<Record<string, number | string>>;
  /** Wall-clock seconds the stage took (the process that finished it). */
  readonly seconds?: number;
}

export interface RunState {
  readonly format: typeof RUN_STATE_FORMAT;
  readonly version: typeof RUN_STATE_VERSION;
  /** The command that made the run ('demo', 'teachers', ...). */
  readonly command: string;
  /** Hash of the run's resolved config: resuming under another config is refused. */
  readonly configHash: string;
  /** Artefacts given by path (absolute), e.g. the base model of a run started with --model. */
  readonly inputs: readonly RunArtifact[];
  /** Stages in the order they started. */
  readonly stages: Readonly<Record<string, StageState>>;
}

/** A trainer_state.json that cannot be read; `problems` are `key: what was expected` lines. */
export class RunStateError extends Error {
  override readonly name = 'RunStateError';
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: ${problems.length === 1 ? problems[0] : `${problems.length} problems: ${problems.join('; ')}`}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkArtifact(v: unknown, at: string, problems: string[]): void {
  if (!isObject(v)) {
    problems.push(`${at}: expected {role, kind, path}`);
    return;
  }
  if (typeof v['role'] !== 'string' || v['role'] === '') problems.push(`${at}.role: expected a non-empty string`);
  if (!ARTIFACT_KINDS.includes(v['kind'] as ArtifactKind))
    problems.push(`${at}.kind: expected one of ${ARTIFACT_KINDS.join(', ')}, got ${JSON.stringify(v['kind'])}`);
  if (typeof v['path'] !== 'string' || v['path'] === '') problems.push(`${at}.path: expected a non-empty string`);
  if (v['name'] !== undefined && typeof v['name'] !== 'string') problems.push(`${at}.name: expected a string`);
}

function checkStage(v: unknown, at: string, problems: string[]): void {
  if (!isObject(v)) {
    problems.push(`${at}: expected {status, step, totalSteps}`);
    return;
  }
  if (v['status'] !== 'running' && v['status'] !== 'done') problems.push(`${at}.status: expected 'running' or 'done', got ${JSON.stringify(v['status'])}`);
  for (const k of ['step', 'totalSteps'] as const) {
    if (!Number.isInteger(v[k]) || (v[k] as number) < 0) problems.push(`${at}.${k}: expected an integer >= 0, got ${JSON.stringify(v[k])}`);
  }
  if (v['checkpoints'] !== undefined && typeof v['checkpoints'] !== 'string') problems.push(`${at}.checkpoints: expected a path string`);
  if (v['outputs'] !== undefined) {
    if (!Array.isArray(v['outputs'])) problems.push(`${at}.outputs: expected a list`);
    else v['outputs'].forEach((a, i) => checkArtifact(a, `${at}.outputs.${i}`, problems));
  }
  if (v['summary'] !== undefined && !isObject(v['summary'])) problems.push(`${at}.summary: expected an object`);
  if (v['seconds'] !== undefined && typeof v['seconds'] !== 'number') problems.push(`${at}.seconds: expected a number`);
}

/** Checks a parsed trainer_state.json; throws RunStateError listing every problem. */
export function parseRunState(json: unknown, file: string = RUN_STATE_FILE): RunState {
  if (!isObject(json)) throw new RunStateError(file, ['(root): expected a JSON object']);
  if (json['format'] !== RUN_STATE_FORMAT) {
    const old = json['version'] === 1 && json['format'] === undefined;
    throw new RunStateError(file, [
      old
        ? `format: written by an older tagi (run-state version 1, no roles); start a new run (its checkpoints are not resumable by this version)`
        : `format: expected '${RUN_STATE_FORMAT}', got ${JSON.stringify(json['format'])}`,
    ]);
  }
  const problems: string[] = [];
  if (json['version'] !== RUN_STATE_VERSION) problems.push(`version: expected ${RUN_STATE_VERSION}, got ${JSON.stringify(json['version'])}`);
  if (typeof json['command'] !== 'string') problems.push('command: expected a string');
  if (typeof json['configHash'] !== 'string') problems.push('configHash: expected a string');
  if (!Array.isArray(json['inputs'])) problems.push('inputs: expected a list');
  else json['inputs'].forEach((a, i) => checkArtifact(a, `inputs.${i}`, problems));
  if (!isObject(json['stages'])) problems.push('stages: expected an object');
  else for (const [k, s] of Object.entries(json['stages'])) checkStage(s, `stages.${k}`, problems);
  if (problems.length > 0) throw new RunStateError(file, problems);
  return json as unknown as RunState;
}
