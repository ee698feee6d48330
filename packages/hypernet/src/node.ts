// Node-only IO: hypernetwork checkpoints (`hypernet_config.json` + `hypernet.safetensors` in a directory) and
// self-describing task-adapter exports (a peft directory + `tagi_adapter.json` [+ `tagi_fusion.safetensors`]).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { stableJson } from '@tagi/tensor-core';
import { readSafetensors, writeFileAtomic } from '@tagi/tensor-core/node';
import type { BaseSeq2SeqModel } from './base-model.js';
import {
  HYPERNET_CONFIG_FILE,
  HYPERNET_WEIGHTS_FILE,
  type RestoreOptions,
  hypernetCheckpointJson,
  hypernetWeightsBytes,
  restoreHypernet,
} from './checkpoint.js';
import { HypernetCheckpointError } from './errors.js';
import type { HyperNetwork } from './hypernet.js';
import {
  type LoadedTaskAdapter,
  type TaskAdapterFilesOptions,
  type TaskAdapterLoadOptions,
  type TaskAdapterMeta,
  PEFT_CONFIG_FILE,
  PEFT_WEIGHTS_FILE,
  TAGI_ADAPTER_FILE,
  TAGI_FUSION_FILE,
  taskAdapterFiles,
  taskAdapterFromFiles,
} from './export.js';
import type { TaskAdapter } from './inference.js';

/** Writes `hypernet_config.json` (sorted keys, 2 spaces) and `hypernet.safetensors` (atomically) into `dir`. */
export async function saveHypernet(dir: string, hn: HyperNetwork): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const json = hypernetCheckpointJson(hn);
  await writeFileAtomic(path.join(dir, HYPERNET_WEIGHTS_FILE), hypernetWeightsBytes(hn));
  await writeFileAtomic(path.join(dir, HYPERNET_CONFIG_FILE), stableJson(json));
}

/** Loads a hypernetwork saved by {@link saveHypernet} onto `base` (which must be the model it was trained on). */
export async function loadHypernet(dir: string, base: BaseSeq2SeqModel, opts: Omit<RestoreOptions, 'source'> = {}): Promise<HyperNetwork> {
  const cfgFile = path.join(dir, HYPERNET_CONFIG_FILE);
  let text: string;
  try {
    text = await fs.readFile(cfgFile, 'utf8');
  } catch (e) {
    throw new HypernetCheckpointError(cfgFile, `cannot read (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new HypernetCheckpointError(cfgFile, `invalid JSON (${(e as Error).message})`);
  }
  const { tensors } = await readSafetensors(path.join(dir, HYPERNET_WEIGHTS_FILE));
  try {
    return restoreHypernet(base, json, tensors, { ...opts, source: cfgFile });
  } finally {
    tf.dispose([...tensors.values()]);
  }
}

/**
 * Writes the self-describing export of one generated task adapter into `dir` (atomically, file by file):
 * `adapter_config.json` + `adapter_model.safetensors` (a peft directory), `tagi_adapter.json`, and
 * `tagi_fusion.safetensors` unless the hypernetwork's fusion is 'none'. Returns what `tagi_adapter.json` says.
 */
export async function writeTaskAdapter(dir: string, hn: HyperNetwork, task: TaskAdapter, opts: TaskAdapterFilesOptions): Promise<TaskAdapterMeta> {
  const { files, meta } = await taskAdapterFiles(hn, task, opts);
  await fs.mkdir(dir, { recursive: true });
  // the description last: a directory with tagi_adapter.json is complete
  for (const [name, bytes] of [...files].sort(([a], [b]) => Number(a === TAGI_ADAPTER_FILE) - Number(b === TAGI_ADAPTER_FILE)))
    await writeFileAtomic(path.join(dir, name), bytes);
  if (!files.has(TAGI_FUSION_FILE)) await fs.rm(path.join(dir, TAGI_FUSION_FILE), { force: true }); // a stale one from an earlier export
  return meta;
}

/** Reads an export written by {@link writeTaskAdapter} and rebuilds the full TAGI student on `base` (see `taskAdapterFromFiles`). */
export async function readTaskAdapter(dir: string, base: BaseSeq2SeqModel, opts: Omit<TaskAdapterLoadOptions, 'source'> = {}): Promise<LoadedTaskAdapter> {
  const files = new Map<string, Uint8Array>();
  for (const name of [TAGI_ADAPTER_FILE, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, TAGI_FUSION_FILE]) {
    try {
      const buf = await fs.readFile(path.join(dir, name));
      files.set(name, new Uint8Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength))); // own copy (a Buffer may view a shared pool)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new HypernetCheckpointError(path.join(dir, name), `cannot read (${(e as Error).message})`);
    }
  }
  return taskAdapterFromFiles(base, files, { ...opts, source: dir });
}
