// Node-only entry of @tagi/tensor-core: safetensors files (single, sharded, atomic writes), the checkpoint
// store of the training loop and the lock file that guards a directory (a run dir's own files: @tagi/run-dir).
export { writeFileAtomic, readSafetensors, writeSafetensors, readSharded, writeSharded, shardedFile } from './files.js';
export type { ShardedOptions, WriteShardedOptions } from './files.js';
export { DirCheckpointStore, CheckpointError, CHECKPOINT_FORMAT, CHECKPOINT_VERSION } from './checkpoints.js';
export type { DirCheckpointStoreOptions } from './checkpoints.js';
export { acquireLock, readLock, isStaleLock, DirLockedError } from './dir-lock.js';
export type { DirLock, LockInfo } from './dir-lock.js';
