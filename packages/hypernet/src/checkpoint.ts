// Checkpoint contents independent of the file system (browser-safe): the base-model reference, the
// `hypernet_config.json` object, and rebuilding a hypernetwork from a config object plus tensors.
import type * as tf from '@tensorflow/tfjs-core';
import { serializeSafetensors } from '@tagi/tensor-core';
import { t5ConfigToJson } from '@tagi/t5-model';
import type { BaseSeq2SeqModel } from './base-model.js';
import { type HypernetConfig, hypernetConfigToJson, parseHypernetConfig } from './config.js';
import { HypernetCheckpointError } from './errors.js';
import { HyperNetwork } from './hypernet.js';

export const HYPERNET_CONFIG_FILE = 'hypernet_config.json';
export const HYPERNET_WEIGHTS_FILE = 'hypernet.safetensors';
export const HYPERNET_FORMAT_VERSION = 1;

/** The config fields that fix every tensor shape of the base model (what a hypernetwork depends on). */
const SHAPE_KEYS = [
  'd_ff',
  'd_kv',
  'd_model',
  'feed_forward_proj',
  'num_decoder_layers',
  'num_heads',
  'num_layers',
  'relative_attention_max_distance',
  'relative_attention_num_buckets',
  'tie_word_embeddings',
  'vocab_size',
] as const;

/** Identifies the base model a hypernetwork was trained on. */
export interface BaseModelReference {
  /** HF id or directory, informational. */
  readonly name: string | null;
  /** The shape-defining config fields. */
  readonly shape: Readonly<Record<string, unknown>>;
  /** FNV-1a 64 of the canonical shape JSON. */
  readonly configHash: string;
  /** FNV-1a 64 over a fixed sample of the base weights (catches a different checkpoint of the same shape). */
  readonly weightsFingerprint: string;
}

function fnv1a64(bytes: Uint8Array): string {
  // two independent 32-bit FNV-1a lanes (offset bases differ) → 64 hex bits, exact in JS integers
  let h1 = 0x811c9dc5;
  let h2 = 0xcbf29ce4;
  for (const b of bytes) {
    h1 = Math.imul(h1 ^ b, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ b ^ 0x5b, 0x01000193) >>> 0;
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}

/** Shape summary, config hash and weight fingerprint of a base model. Reads a few hundred floats. */
export function baseModelReference(base: BaseSeq2SeqModel, name: string | null = null): BaseModelReference {
  const json = t5ConfigToJson(base.config);
  const shape = Object.fromEntries(SHAPE_KEYS.map((k) => [k, json[k] ?? null]));
  const configHash = fnv1a64(new TextEncoder().encode(JSON.stringify(shape)));
  const sample: number[] = [];
  for (const [, v] of base.namedParameters()) {
    const n = Math.min(v.size, 16);
    // first 16 values of every parameter: cheap (a flat slice) and sensitive to any re-initialisation
    const data = (v as tf.Tensor).dataSync().subarray(0, n);
    for (const x of data) sample.push(x);
  }
  const weightsFingerprint = fnv1a64(new Uint8Array(new Float32Array(sample).buffer));
  return { name, shape, configHash, weightsFingerprint };
}

/** The `hypernet_config.json` object (sorted keys). */
export function hypernetCheckpointJson(hn: HyperNetwork): Record<string, unknown> {
  const ref = baseModelReference(hn.base, hn.baseModelName ?? null);
  return {
    base_model: baseModelJson(ref),
    format_version: HYPERNET_FORMAT_VERSION,
    hypernet: hypernetConfigToJson(hn.config),
    target_paths: hn.targetModules.map((t) => t.path),
  };
}

/**
 * Checks that `base` is the model a file recorded (`base_model` of `hypernet_config.json` or
 * `tagi_adapter.json`): same shape-defining config fields, and the same weights unless
 * `allowDifferentBaseWeights`. Throws a HypernetCheckpointError naming each difference.
 */
export function checkBaseModel(
  recordedJson: unknown,
  base: BaseSeq2SeqModel,
  opts: { allowDifferentBaseWeights?: boolean },
  source: string,
  kind: 'checkpoint' | 'export' = 'checkpoint',
): void {
  const made = kind === 'checkpoint' ? 'trained on' : 'generated for';
  const recorded = recordedJson as { name?: string | null; shape?: Record<string, unknown>; config_hash?: string; weights_fingerprint?: string } | undefined;
  if (!recorded || typeof recorded !== 'object' || !recorded.shape) throw new HypernetCheckpointError(source, 'base_model: missing base-model reference');
  const actual = baseModelReference(base);
  const diffs = SHAPE_KEYS.filter((k) => JSON.stringify(recorded.shape?.[k] ?? null) !== JSON.stringify(actual.shape[k])).map(
    (k) => `${k} (${kind} ${JSON.stringify(recorded.shape?.[k])}, model ${JSON.stringify(actual.shape[k])})`,
  );
  if (diffs.length > 0) {
    throw new HypernetCheckpointError(source, `${made} a different base model${recorded.name ? ` (${recorded.name})` : ''}: ${diffs.join('; ')}`);
  }
  if (!opts.allowDifferentBaseWeights && recorded.weights_fingerprint !== actual.weightsFingerprint) {
    throw new HypernetCheckpointError(
      source,
      `${made} a base model with other weights${recorded.name ? ` (${recorded.name})` : ''} (fingerprint ${recorded.weights_fingerprint}, model ${actual.weightsFingerprint}); pass allowDifferentBaseWeights to load anyway`,
    );
  }
}

/** `base_model` of a file: the reference in its JSON form (sorted keys). */
export function baseModelJson(ref: BaseModelReference): Record<string, unknown> {
  return { config_hash: ref.configHash, name: ref.name, shape: ref.shape, weights_fingerprint: ref.weightsFingerprint };
}

/** The exact bytes of `hypernet.safetensors` as `saveHypernet` writes them (deterministic: sorted keys). */
export function hypernetWeightsBytes(hn: HyperNetwork): Uint8Array {
  return serializeSafetensors(new Map(hn.namedParameters()), { format: 'pt', tagi: 'hypernet' });
}

/** SHA-256 (hex) through WebCrypto, available in browsers and Node ≥ 19. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** SHA-256 of the hypernetwork's weights file (`sha256sum hypernet.safetensors` of a saved checkpoint gives the same). */
export async function hypernetWeightsSha256(hn: HyperNetwork): Promise<string> {
  return sha256Hex(hypernetWeightsBytes(hn));
}

export interface RestoreOptions {
  /** Accept a base model whose weights differ from the recorded fingerprint (same shapes). Default false. */
  readonly allowDifferentBaseWeights?: boolean;
  /** Name reported in errors (the config file path). */
  readonly source?: string;
}

/**
 * Rebuilds a hypernetwork on `base` from a parsed `hypernet_config.json` object and its tensors (strict:
 * every key and shape must match). A base model with other shapes, or other weights, is an error naming
 * the differing fields.
 */
export function restoreHypernet(base: BaseSeq2SeqModel, configJson: unknown, tensors: ReadonlyMap<string, tf.Tensor>, opts: RestoreOptions = {}): HyperNetwork {
  const source = opts.source ?? HYPERNET_CONFIG_FILE;
  if (typeof configJson !== 'object' || configJson === null) throw new HypernetCheckpointError(source, 'expected a JSON object');
  const o = configJson as Record<string, unknown>;
  if (o['format_version'] !== HYPERNET_FORMAT_VERSION) {
    throw new HypernetCheckpointError(source, `format_version: expected ${HYPERNET_FORMAT_VERSION}, got ${JSON.stringify(o['format_version'])}`);
  }
  checkBaseModel(o['base_model'], base, opts, source);
  const recorded = o['base_model'] as { name?: string | null };
  let config: HypernetConfig;
  try {
    config = parseHypernetConfig(o['hypernet'], `${source}: hypernet`).config;
  } catch (e) {
    throw new HypernetCheckpointError(source, (e as Error).message);
  }
  const hn = new HyperNetwork(base, config, { baseModelName: recorded.name ?? undefined });
  const paths = o['target_paths'];
  if (Array.isArray(paths) && JSON.stringify(paths) !== JSON.stringify(hn.targetModules.map((t) => t.path))) {
    hn.dispose();
    throw new HypernetCheckpointError(source, 'target_paths: the targets resolved on this model differ from the checkpoint');
  }
  try {
    hn.loadStateDict(tensors, { strict: true });
  } catch (e) {
    hn.dispose();
    throw new HypernetCheckpointError(source.replace(HYPERNET_CONFIG_FILE, HYPERNET_WEIGHTS_FILE), (e as Error).message);
  }
  return hn;
}
