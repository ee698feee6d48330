// Node-only file IO for safetensors: single files (written atomically) and HF sharded checkpoints
// (`model.safetensors.index.json` + `model-0000i-of-0000n.safetensors`).
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from './json-file.js';
import { type ParsedSafetensors, SafetensorsError, parseSafetensors, serializeSafetensors } from './safetensors.js';

export { writeFileAtomic };

export async function readSafetensors(file: string): Promise<ParsedSafetensors> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    throw new SafetensorsError(file, 'io', `cannot read file (${e instanceof Error ? e.message : String(e)})`);
  }
  return parseSafetensors(bytes, file);
}

export async function writeSafetensors(
  file: string,
  tensors: ReadonlyMap<string, tf.Tensor> | Record<string, tf.Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(file, serializeSafetensors(tensors, metadata));
}

export interface ShardedOptions {
  /** File stem: 'model' gives model.safetensors / model.safetensors.index.json. */
  baseName?: string;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * The file that holds a checkpoint directory's weights as `readSharded` reads them: the index
 * `<base>.safetensors.index.json` when present, else `<base>.safetensors` (what errors about the weights name).
 */
export function shardedFile(dir: string, opts: ShardedOptions = {}): string {
  const base = opts.baseName ?? 'model';
  const indexFile = path.join(dir, `${base}.safetensors.index.json`);
  return existsSync(indexFile) ? indexFile : path.join(dir, `${base}.safetensors`);
}

/**
 * Reads a checkpoint directory: `<base>.safetensors.index.json` with its shards if present, otherwise
 * `<base>.safetensors`. Every key of the index must be in the shard it names.
 */
export async function readSharded(dir: string, opts: ShardedOptions = {}): Promise<ParsedSafetensors> {
  const base = opts.baseName ?? 'model';
  const indexFile = path.join(dir, `${base}.safetensors.index.json`);
  if (!(await exists(indexFile))) {
    const single = path.join(dir, `${base}.safetensors`);
    if (!(await exists(single))) {
      throw new SafetensorsError(single, 'io', `neither ${base}.safetensors nor ${base}.safetensors.index.json exists in ${dir}`);
    }
    return readSafetensors(single);
  }
  let index: { metadata?: Record<string, unknown>; weight_map?: Record<string, unknown> };
  try {
    index = JSON.parse(await fs.readFile(indexFile, 'utf8')) as typeof index;
  } catch (e) {
    throw new SafetensorsError(indexFile, 'index', `index is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const weightMap = index?.weight_map;
  if (weightMap === null || typeof weightMap !== 'object' || Array.isArray(weightMap)) {
    throw new SafetensorsError(indexFile, 'index', 'index must have a weight_map object');
  }
  const byShard = new Map<string, string[]>();
  for (const [key, shard] of Object.entries(weightMap)) {
    if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\') || shard.startsWith('.')) {
      throw new SafetensorsError(indexFile, 'index', `weight_map.${key} must be a shard file name, got ${JSON.stringify(shard)}`);
    }
    byShard.set(shard, [...(byShard.get(shard) ?? []), key]);
  }
  const tensors = new Map<string, tf.Tensor>();
  const dtypes: ParsedSafetensors['dtypes'] = new Map();
  const metadata: Record<string, string> = {};
  try {
    for (const [shard, keys] of [...byShard].sort((a, b) => a[0].localeCompare(b[0]))) {
      const file = path.join(dir, shard);
      const part = await readSafetensors(file);
      Object.assign(metadata, part.metadata);
      const wanted = new Set(keys);
      for (const [k, t] of part.tensors) {
        if (wanted.has(k)) {
          tensors.set(k, t);
          dtypes.set(k, part.dtypes.get(k) ?? 'F32');
        } else {
          t.dispose(); // present in the shard but mapped elsewhere (or not at all) by the index
        }
      }
      const absent = keys.filter((k) => !part.tensors.has(k));
      if (absent.length > 0) {
        throw new SafetensorsError(file, 'index', `index maps ${absent.length} key(s) to this shard that it lacks: ${absent.slice(0, 5).join(', ')}`);
      }
    }
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
  return { tensors, metadata, dtypes };
}

export interface WriteShardedOptions extends ShardedOptions {
  /** Largest shard in bytes of tensor data (default 5 GB as HF); one file if everything fits. */
  maxShardBytes?: number;
  metadata?: Record<string, string>;
}

/**
 * Writes tensors as `<base>.safetensors`, or as numbered shards plus `<base>.safetensors.index.json`
 * when they exceed `maxShardBytes`. Keys are taken in sorted order. Returns the files written.
 */
export async function writeSharded(
  dir: string,
  tensors: ReadonlyMap<string, tf.Tensor> | Record<string, tf.Tensor>,
  opts: WriteShardedOptions = {},
): Promise<string[]> {
  const base = opts.baseName ?? 'model';
  const maxBytes = opts.maxShardBytes ?? 5_000_000_000;
  const map = tensors instanceof Map ? tensors : new Map(Object.entries(tensors as Record<string, tf.Tensor>));
  await fs.mkdir(dir, { recursive: true });
  const keys = [...map.keys()].sort();
  const bytesOf = (t: tf.Tensor) => t.size * (t.dtype === 'bool' ? 1 : 4);
  const total = keys.reduce((s, k) => s + bytesOf(map.get(k) as tf.Tensor), 0);
  if (total <= maxBytes) {
    const file = path.join(dir, `${base}.safetensors`);
    await writeSafetensors(file, map, opts.metadata);
    return [file];
  }
  const shards: string[][] = [[]];
  let current = 0;
  for (const k of keys) {
    const b = bytesOf(map.get(k) as tf.Tensor);
    const last = shards[shards.length - 1] as string[];
    if (last.length > 0 && current + b > maxBytes) {
      shards.push([k]);
      current = b;
    } else {
      last.push(k);
      current += b;
    }
  }
  const n = shards.length;
  const pad = (i: number) => String(i).padStart(5, '0');
  const weightMap: Record<string, string> = {};
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${base}-${pad(i + 1)}-of-${pad(n)}.safetensors`;
    const part = new Map<string, tf.Tensor>();
    for (const k of shards[i] as string[]) {
      part.set(k, map.get(k) as tf.Tensor);
      weightMap[k] = name;
    }
    const file = path.join(dir, name);
    await writeSafetensors(file, part, opts.metadata);
    files.push(file);
  }
  const indexFile = path.join(dir, `${base}.safetensors.index.json`);
  const index = { metadata: { total_size: total }, weight_map: weightMap };
  await writeFileAtomic(indexFile, `${JSON.stringify(index, null, 2)}\n`);
  files.push(indexFile);
  return files;
}
