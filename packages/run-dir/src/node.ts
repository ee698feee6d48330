// Node-only entry of @tagi/run-dir: the readers and writers of a run dir's files (import from
// '@tagi/run-dir/node'). Every write is atomic (temp file + rename) and deterministic (sorted keys).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EvalInputError, type ResultsSummary, summaryFromJson, summaryToJson } from '@tagi/eval';
import { stableJson, writeFileAtomic } from '@tagi/tensor-core/json-file';
import { RUN_FILES } from './files.js';
import { ResultsFileError } from './results.js';
import { type RunPromptSettings, NO_RUN_PROMPT, RunConfigError, parseRunPrompt } from './run-config.js';
import { type RunArtifact, type RunState, RUN_STATE_FILE, RunStateError, parseRunState } from './run-state.js';

/** Deterministic JSON (sorted keys, 2 spaces, trailing newline): the one writer of the workspace's JSON files. */
export { stableJson };
export type { StableJsonOptions } from '@tagi/tensor-core/json-file';

// ---- trainer_state.json

/** Reads `<runDir>/trainer_state.json`; undefined when there is none, RunStateError when it is unusable. */
export function readRunState(runDir: string): RunState | undefined {
  const file = path.join(runDir, RUN_STATE_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RunStateError(file, [`not valid JSON (${(e as Error).message})`]);
  }
  return parseRunState(json, file);
}

/**
 * Writes `<runDir>/trainer_state.json` atomically (temp file + rename), after checking it as the reader
 * would. Keys are sorted except the stages', which keep the order the stages ran in.
 */
export async function writeRunState(runDir: string, state: RunState): Promise<void> {
  const file = path.join(runDir, RUN_STATE_FILE);
  parseRunState(JSON.parse(JSON.stringify(state)), file);
  await writeFileAtomic(file, stableJson(state, { keepOrder: ['stages'] }));
}

/** An artefact with its absolute directory. */
export interface ResolvedArtifact extends RunArtifact {
  readonly dir: string;
  /** The stage that wrote it; undefined for an input. */
  readonly stage?: string;
}

/**
 * Every artefact of a run: the inputs, then the outputs of finished stages in the order they ran.
 * `role` picks one kind of artefact (`runArtifacts(dir, state, 'hypernet-tagi')`).
 */
export function runArtifacts(runDir: string, state: RunState, role?: string): ResolvedArtifact[] {
  const out: ResolvedArtifact[] = [];
  for (const a of state.inputs) out.push({ ...a, dir: path.resolve(runDir, a.path) });
  for (const [stage, s] of Object.entries(state.stages)) {
    if (s.status !== 'done') continue;
    for (const a of s.outputs ?? []) out.push({ ...a, dir: path.resolve(runDir, a.path), stage });
  }
  return role === undefined ? out : out.filter((a) => a.role === role);
}

// ---- config.json

/**
 * The prompt settings of `<dir>/config.json` (parseRunPrompt's rules); NO_RUN_PROMPT when the dir has none.
 * `resolve` maps the file to the path actually read (or throws), e.g. to refuse a symlink out of allowed roots.
 */
export function readRunPrompt(dir: string, opts: { resolve?: (file: string) => string } = {}): RunPromptSettings {
  const file = path.join(dir, RUN_FILES.config);
  if (!existsSync(file)) return NO_RUN_PROMPT;
  const text = readFileSync(opts.resolve ? opts.resolve(file) : file, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RunConfigError(file, `not valid JSON (${(e as Error).message})`);
  }
  return parseRunPrompt(json, file);
}

// ---- results.json

/** Writes `<runDir>/results.json` in the current shape (version 2: the summary, `meta` = the run's facts), sorted keys. */
export async function writeResultsJson(runDir: string, summary: ResultsSummary, meta: Record<string, unknown> = {}): Promise<void> {
  await writeFileAtomic(path.join(runDir, RUN_FILES.results), stableJson(summaryToJson(summary, meta)));
}

/**
 * `<runDir>/results.json` in the current shape (version 2); undefined when there is none. A file that is not
 * that shape is a ResultsFileError naming the file and (from @tagi/eval's reader) the field.
 */
export function readResultsJson(runDir: string): { summary: ResultsSummary; meta: Record<string, unknown> } | undefined {
  const file = path.join(runDir, RUN_FILES.results);
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    throw new ResultsFileError(file, `not valid JSON (${e.message})`);
  }
  try {
    return summaryFromJson(json);
  } catch (e) {
    if (!(e instanceof EvalInputError)) throw e;
    throw new ResultsFileError(file, e.message);
  }
}

// the browser-safe part too, so a Node reader needs one import
export * from './index.js';
