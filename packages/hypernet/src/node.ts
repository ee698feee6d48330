// Node-only IO of hypernetwork checkpoints: `hypernet_config.json` + `hypernet.safetensors` in a directory.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, writeFileAtomic, writeSafetensors } from '@tagi/tensor-core/node';
import type { BaseSeq2SeqModel } from './base-model.js';
import { HYPERNET_CONFIG_FILE, HYPERNET_WEIGHTS_FILE, type RestoreOptions, hypernetCheckpointJson, restoreHypernet } from './checkpoint.js';
import { HypernetCheckpointError } from './errors.js';
import type { HyperNetwork } from './hypernet.js';

/** Writes `hypernet_config.json` (sorted keys, 2 spaces) and `hypernet.safetensors` (atomically) into `dir`. */
export async function saveHypernet(dir: string, hn: HyperNetwork): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const json = hypernetCheckpointJson(hn);
  await writeSafetensors(path.join(dir, HYPERNET_WEIGHTS_FILE), new Map(hn.namedParameters()), { format: 'pt', tagi: 'hypernet' });
  await writeFileAtomic(path.join(dir, HYPERNET_CONFIG_FILE), `${JSON.stringify(sortKeys(json), null, 2)}\n`);
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

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}
