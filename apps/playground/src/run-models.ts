// What a run dir holds, read the one way the project reads runs (@tagi/run-dir): `trainer_state.json`
// through `readRunState`, its artefacts by role through `runArtifacts` — never guessed from directory
// names. And how the run formats instructions: `prompt.numPos` and `prompt.maxSourceLength` of its
// config.json (the trainer's resolved config), with the trainer's limits.
import fs from 'node:fs';
import path from 'node:path';
import {
  RUN_FILES,
  RUN_STATE_FILE,
  type ResolvedArtifact,
  RunConfigError,
  type RunPromptSettings,
  type RunState,
  RunStateError,
  readRunPrompt as readRunDirPrompt,
  readRunState,
  runArtifacts,
} from '@tagi/run-dir/node';
import { aboutFile } from './os-errors';

/** Maps a file about to be read to the real path to read, or throws (a symlink leaving the roots). */
export type FileResolver = (file: string) => string;

export { RunConfigError };
export type { RunPromptSettings };

/** Roles of the hypernetworks a run can hold, in the order the TAGI column prefers them. */
export const HYPERNET_ROLES = ['hypernet-tagi', 'hypernet-hint', 'hypernet-pretrained'] as const;

export interface RunArtifacts {
  /** The run state, when the dir has a usable trainer_state.json. */
  readonly state?: RunState;
  /** Why the dir's artefacts are unknown: no trainer_state.json, one of version 1, or a broken one. */
  readonly problem?: string;
  /** Inputs, then outputs of finished stages in order (empty without a state). */
  readonly artifacts: readonly ResolvedArtifact[];
}

/**
 * The run state of `dir` and its artefacts. The file goes through `resolve` first (a trainer_state.json
 * symlinked out of the roots is refused, never read). A missing, old (version 1) or broken file is not
 * an error here: its message is returned as `problem`, so the run's curves and results stay readable.
 */
export function readRunArtifacts(dir: string, resolve: FileResolver): RunArtifacts {
  const file = path.join(dir, RUN_STATE_FILE);
  if (!fs.existsSync(file)) {
    return {
      problem: `no ${RUN_STATE_FILE}: the playground finds a run's models by role in that file, which tagi writes (run \`tagi demo\`, or open an HF T5 dir on its own)`,
      artifacts: [],
    };
  }
  resolve(file);
  let state: RunState | undefined;
  try {
    state = aboutFile(file, () => readRunState(dir));
  } catch (e) {
    if (e instanceof RunStateError) return { problem: `its models cannot be opened here: ${e.message}`, artifacts: [] };
    throw e;
  }
  if (state === undefined) return { problem: `no ${RUN_STATE_FILE}`, artifacts: [] };
  return { state, artifacts: runArtifacts(dir, state) };
}

/** The first artefact of the first role that has one (roles in order of preference). */
export function artifactByRole(arts: readonly ResolvedArtifact[], roles: readonly string[]): ResolvedArtifact | undefined {
  for (const role of roles) {
    const a = arts.find((x) => x.role === role);
    if (a) return a;
  }
  return undefined;
}

/** Stages still running ("hypernet-tagi at step 3 of 10"), to say why an artefact is not there yet. */
export function runningStages(state: RunState | undefined): string[] {
  if (!state) return [];
  return Object.entries(state.stages)
    .filter(([, s]) => s.status === 'running')
    .map(([name, s]) => `${name} at step ${s.step} of ${s.totalSteps}`);
}

/**
 * The prompt settings of a run's config.json, read by @tagi/run-dir with the trainer's limits. A config.json
 * without a `prompt` object (an HF model config, a hand-made run) gives the defaults (no demonstrations, no
 * budget of its own); a `prompt` object with a bad value is a RunConfigError naming the key, never silently
 * replaced. The file goes through `resolve` first (a config.json symlinked out of the roots is refused).
 */
export function readRunPrompt(dir: string, resolve: FileResolver): RunPromptSettings {
  const file = path.join(dir, RUN_FILES.config);
  return aboutFile(file, () => readRunDirPrompt(dir, { resolve }));
}
