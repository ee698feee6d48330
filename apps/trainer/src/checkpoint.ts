// Resumable checkpoints. Layout inside a run dir:
//   trainer_state.json                          which stages are done, and each running stage's latest checkpoint
//   checkpoints/<stage>/step-000120/state.safetensors   trainable tensors + optimiser slots
//   checkpoints/<stage>/step-000120/checkpoint.json     step, RNG/optimiser meta, sha256 of the tensors
// Every file is written atomically (temp + rename; a checkpoint dir is built under a temp name and renamed),
// and trainer_state.json moves to a new checkpoint only after that checkpoint is complete, so a crash at
// any point leaves the previous checkpoint usable. A damaged checkpoint is refused before anything is written.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, promises as fs, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { SafetensorsError, parseSafetensors, serializeSafetensors } from '@tagi/tensor-core';
import { writeFileAtomic } from '@tagi/tensor-core/node';
import { stableJson } from './config.js';
import { CheckpointError } from './errors.js';

export const TRAINER_STATE_FILE = 'trainer_state.json';
const STATE_TENSORS = 'state.safetensors';
const CHECKPOINT_META = 'checkpoint.json';

export interface StageRecord {
  status: 'running' | 'done';
  step: number;
  totalSteps: number;
  /** Checkpoint dir relative to the run dir (running stages). */
  checkpoint?: string;
  /** Outputs of a finished stage (relative paths), for resume and inspect. */
  outputs?: Record<string, string>;
  /** Summary numbers of a finished stage. */
  summary?: Record<string, number | string>;
}

export interface TrainerState {
  version: 1;
  /** sha256 of the resolved config: resuming with another config is refused. */
  configHash: string;
  stages: Record<string, StageRecord>;
}

export interface CheckpointMeta {
  stage: string;
  step: number;
  totalSteps: number;
  sha256: string;
  /** JSON state of the stage (optimiser counters, RNG state, ...). */
  meta: Record<string, unknown>;
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function configHash(config: unknown): string {
  return sha256(stableJson(config)).slice(0, 16);
}

function stageDirName(stage: string): string {
  return stage.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** Reads trainer_state.json; undefined when absent; CheckpointError when unreadable. */
export function readTrainerState(runDir: string): TrainerState | undefined {
  const file = path.join(runDir, TRAINER_STATE_FILE);
  if (!existsSync(file)) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CheckpointError(file, `not valid JSON (${(e as Error).message})`);
  }
  const o = obj as Partial<TrainerState>;
  if (o === null || typeof o !== 'object' || o.version !== 1 || typeof o.configHash !== 'string' || typeof o.stages !== 'object' || o.stages === null) {
    throw new CheckpointError(file, 'expected {version: 1, configHash, stages}');
  }
  return o as TrainerState;
}

export async function writeTrainerState(runDir: string, state: TrainerState): Promise<void> {
  await writeFileAtomic(path.join(runDir, TRAINER_STATE_FILE), stableJson(state));
}

/**
 * Writes one checkpoint dir atomically and returns its path relative to the run dir. Does not touch
 * trainer_state.json (the caller moves the pointer, then prunes older checkpoints).
 */
export async function saveCheckpoint(
  runDir: string,
  stage: string,
  step: number,
  totalSteps: number,
  tensors: ReadonlyMap<string, tf.Tensor>,
  meta: Record<string, unknown>,
): Promise<string> {
  const rel = path.join('checkpoints', stageDirName(stage), `step-${String(step).padStart(6, '0')}`);
  const dir = path.join(runDir, rel);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const bytes = serializeSafetensors(tensors, { stage, step: String(step) });
  const cm: CheckpointMeta = { stage, step, totalSteps, sha256: sha256(bytes), meta };
  await writeFileAtomic(path.join(tmp, STATE_TENSORS), bytes);
  await writeFileAtomic(path.join(tmp, CHECKPOINT_META), stableJson(cm));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return rel;
}

/** Loads and verifies a checkpoint dir (relative to the run dir). The caller owns the tensors. */
export async function loadCheckpoint(runDir: string, rel: string, stage: string): Promise<{ tensors: Map<string, tf.Tensor>; meta: CheckpointMeta }> {
  const dir = path.join(runDir, rel);
  const metaFile = path.join(dir, CHECKPOINT_META);
  const tensorFile = path.join(dir, STATE_TENSORS);
  if (!existsSync(metaFile)) throw new CheckpointError(metaFile, 'missing');
  if (!existsSync(tensorFile)) throw new CheckpointError(tensorFile, 'missing');
  let cm: CheckpointMeta;
  try {
    cm = JSON.parse(readFileSync(metaFile, 'utf8')) as CheckpointMeta;
  } catch (e) {
    throw new CheckpointError(metaFile, `not valid JSON (${(e as Error).message})`);
  }
  if (cm.stage !== stage || !Number.isInteger(cm.step) || typeof cm.sha256 !== 'string') {
    throw new CheckpointError(metaFile, `expected a checkpoint of stage '${stage}' with step and sha256`);
  }
  const bytes = await fs.readFile(tensorFile);
  const digest = sha256(bytes);
  if (digest !== cm.sha256) throw new CheckpointError(tensorFile, `sha256 mismatch (file ${digest.slice(0, 12)}…, recorded ${cm.sha256.slice(0, 12)}…): the file is corrupt or truncated`);
  try {
    return { tensors: parseSafetensors(bytes, tensorFile).tensors, meta: cm };
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError(tensorFile, e.message);
    throw e;
  }
}

/** Removes the stage's checkpoints except `keep` (relative path). */
export function pruneCheckpoints(runDir: string, stage: string, keep?: string): void {
  const dir = path.join(runDir, 'checkpoints', stageDirName(stage));
  if (!existsSync(dir)) return;
  const keepName = keep === undefined ? undefined : path.basename(keep);
  for (const name of readdirSync(dir)) {
    if (name !== keepName) rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}
