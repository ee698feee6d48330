// Public API of @tagi/run-dir: the files of a run directory — their names, schemas and parsers. Runs in a
// browser; the readers and writers (Node file IO) are under '@tagi/run-dir/node'.

// the files of a run dir
export { RUN_FILES } from './files.js';

// trainer_state.json: stages, checkpoints, artefacts by role
export { parseRunState, RunStateError, RUN_STATE_FILE, RUN_STATE_FORMAT, RUN_STATE_VERSION } from './run-state.js';
export type { ArtifactKind, RunArtifact, RunState, StageState } from './run-state.js';

// config.json: the prompt settings a reader of the run needs, with the trainer's limits
export { parseRunPrompt, PROMPT_LIMITS, NO_RUN_PROMPT, RunConfigError } from './run-config.js';
export type { RunPromptSettings } from './run-config.js';

// results.json: the current shape and the older ones, each named
export { resultsView, ResultsFileError } from './results.js';
export type { ResultsView } from './results.js';
