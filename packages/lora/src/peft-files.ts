// Node-only IO for @tagi/lora: peft adapter directories (`adapter_config.json` +
// `adapter_model.safetensors`), loadable by Python peft unchanged.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '@tagi/tensor-core';
import { parseSafetensors, serializeSafetensors } from '@tagi/tensor-core';
import { writeFileAtomic } from '@tagi/tensor-core/node';
import { AdapterSet } from './adapter-set.js';
import { type LoraConfig, parseLoraConfigText, stringifyLoraConfig } from './config.js';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

/** A peft directory that cannot be read: names the file and what is wrong with it. */
export class AdapterFileError extends Error {
  override readonly name = 'AdapterFileError';
  constructor(
    readonly file: string,
    readonly fault: string,
  ) {
    super(`${file}: ${fault}`);
  }
}

export interface LoadAdapterOptions {
  /** Check every adapted path and factor shape against this model's Linear modules. */
  model?: Module;
  /** Return trainable variables (to continue training) instead of plain tensors. */
  trainable?: boolean;
}

/** Reads `adapter_config.json` of a peft directory. */
export function readLoraConfig(dir: string): LoraConfig {
  const file = path.join(dir, ADAPTER_CONFIG_FILE);
  if (!fs.existsSync(file)) throw new AdapterFileError(file, 'missing (a peft adapter directory needs adapter_config.json and adapter_model.safetensors)');
  return parseLoraConfigText(fs.readFileSync(file, 'utf8'), file);
}

/** Loads a peft LoRA directory as a shared {@link AdapterSet}. */
export async function loadAdapter(dir: string, opts: LoadAdapterOptions = {}): Promise<AdapterSet> {
  const config = readLoraConfig(dir);
  const file = path.join(dir, ADAPTER_WEIGHTS_FILE);
  if (!fs.existsSync(file)) {
    const bin = path.join(dir, 'adapter_model.bin');
    throw new AdapterFileError(
      file,
      fs.existsSync(bin) ? 'missing; only the PyTorch pickle adapter_model.bin is present (re-save with safe_serialization=True)' : 'missing',
    );
  }
  const buf = await fs.promises.readFile(file);
  const bytes = new Uint8Array(buf.byteLength);
  bytes.set(buf); // a Buffer may be a view into a shared pool; typed-array reinterpretation needs its own copy
  const { tensors } = parseSafetensors(bytes, file);
  let set: AdapterSet;
  try {
    set = AdapterSet.fromPeftTensors(config, tensors, { model: opts.model });
  } catch (e) {
    tf.dispose([...tensors.values()]);
    if (e instanceof Error) e.message = `${file}: ${e.message}`;
    throw e;
  }
  if (opts.trainable !== true) return set;
  const trainable = set.toTrainable();
  set.dispose();
  return trainable;
}

export interface SaveAdapterOptions {
  /** safetensors `__metadata__` (default { format: 'pt' }, as peft writes). */
  metadata?: Record<string, string>;
}

/**
 * Writes `set` as a peft directory (created if needed). Both files are written atomically (temp file +
 * rename); the safetensors keys are sorted, so the same adapter always gives the same bytes.
 */
export async function saveAdapter(dir: string, set: AdapterSet, opts: SaveAdapterOptions = {}): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true });
  const tensors = set.toPeftTensors();
  try {
    const bytes = serializeSafetensors(tensors, opts.metadata ?? { format: 'pt' });
    await writeFileAtomic(path.join(dir, ADAPTER_WEIGHTS_FILE), bytes);
  } finally {
    tf.dispose([...tensors.values()]);
  }
  await writeFileAtomic(path.join(dir, ADAPTER_CONFIG_FILE), stringifyLoraConfig(set.config));
}
