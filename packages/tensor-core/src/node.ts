// Node-only entry of @tagi/tensor-core: safetensors files (single, sharded, atomic writes), the checkpoint
// store of the training loop, the run-state file of a run dir and the lock file that guards a directory.
export { writeFileAtomic, readSafetensors, writeSafetensors, readSharded, writeSharded, shardedFile } from './files.js';
export type { ShardedOptions, WriteShardedOptions } from './files.js';
export { DirCheckpointStore, CheckpointError, CHECKPOINT_FORMAT, CHECKPOINT_VERSION } from './checkpoints.js';
export type { DirCheckpointStoreOptions } from './checkpoints.js';
export { readRunState, writeRunState, parseRunState, runArtifacts, RunStateError, RUN_STATE_FILE, RUN_STATE_FORMAT, RUN_STATE_VERSION } from './run-state.js';
export type { ArtifactKind, ResolvedArtifact, RunArtifact, RunState, StageState } from './run-state.js';
export { acquireLock, readLock, isStaleLock, DirLockedError } from './dir-lock.js';
export type { DirLock, LockInfo } from './dir-lock.js';
