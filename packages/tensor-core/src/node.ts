// Node-only entry of @tagi/tensor-core: safetensors files (single, sharded, atomic writes) and the checkpoint
// store of the training loop.
export { writeFileAtomic, readSafetensors, writeSafetensors, readSharded, writeSharded } from './files.js';
export type { ShardedOptions, WriteShardedOptions } from './files.js';
export { DirCheckpointStore, CheckpointError, CHECKPOINT_FORMAT, CHECKPOINT_VERSION } from './checkpoints.js';
export type { DirCheckpointStoreOptions } from './checkpoints.js';
