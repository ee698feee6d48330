// Node-only IO for @tagi/t5-model: tokenizer files and HF checkpoint directories.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { StateDictError, type StateDictMismatch } from '@tagi/tensor-core';
import { readSafetensors, readSharded, writeFileAtomic, writeSharded } from '@tagi/tensor-core/node';
import { parseT5Config, t5ConfigToJson, type T5Config } from './config.js';
import { T5ForConditionalGeneration as BaseT5, TIED_ALIAS_KEYS, TIED_LM_HEAD_KEY } from './model.js';
import { T5Tokenizer, TokenizerError } from './tokenizer.js';
import { PRUNED_VOCAB_FILE, VocabMap, VocabMapError } from './vocab.js';

/** The standard T5 tokenizer files shipped in the package (`assets/`, Apache-2.0, see NOTICE). */
export const DEFAULT_TOKENIZER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'assets');

function readJson(file: string, what: string): unknown {
  if (!fs.existsSync(file)) throw new TokenizerError(`${what}: ${file} does not exist`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch (e) {
    throw new TokenizerError(`${what}: ${file} is not valid JSON (${(e as Error).message})`);
  }
}

/** Load `tokenizer.json` (+ `tokenizer_config.json` when present) from an HF directory. */
export function loadT5Tokenizer(dir: string): T5Tokenizer {
  const tj = readJson(path.join(dir, 'tokenizer.json'), 'tokenizer') as object;
  const cfgFile = path.join(dir, 'tokenizer_config.json');
  const cfg = fs.existsSync(cfgFile) ? (readJson(cfgFile, 'tokenizer config') as object) : {};
  return new T5Tokenizer(tj, cfg);
}

let cachedDefault: T5Tokenizer | undefined;
/** The standard T5 tokenizer (32,100 ids) that ships with the package. */
export function loadDefaultT5Tokenizer(): T5Tokenizer {
  cachedDefault ??= loadT5Tokenizer(DEFAULT_TOKENIZER_DIR);
  return cachedDefault;
}

// ---------------------------------------------------------------------------------------------
// HF checkpoint directories

/**
 * Loading quirks as data: keys a checkpoint may carry besides the model's own parameters.
 * `sharedAliases` are copies of `shared.weight` written by some HF versions; `tiedLmHead` is one more
 * alias when word embeddings are tied. They are accepted (shape-checked) and dropped, never required.
 */
export const T5_CHECKPOINT_ALIASES = {
  sharedKey: 'shared.weight',
  sharedAliases: TIED_ALIAS_KEYS,
  tiedLmHead: TIED_LM_HEAD_KEY,
} as const;

export class T5LoadError extends Error {
  constructor(
    message: string,
    readonly dir: string,
  ) {
    super(message);
    this.name = 'T5LoadError';
  }
}

/** model.safetensors, or the shards named by model.safetensors.index.json (tensor-core's readers). */
async function readCheckpoint(dir: string, file?: string): Promise<Map<string, tf.Tensor>> {
  if (file) return (await readSafetensors(path.join(dir, file))).tensors;
  if (!fs.existsSync(path.join(dir, 'model.safetensors')) && !fs.existsSync(path.join(dir, 'model.safetensors.index.json'))) {
    throw new T5LoadError(`fromPretrained: ${dir} has neither model.safetensors nor model.safetensors.index.json`, dir);
  }
  return (await readSharded(dir)).tensors;
}

export async function readT5Config(dir: string): Promise<T5Config> {
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(dir)) throw new T5LoadError(`fromPretrained: directory ${dir} does not exist`, dir);
  if (!fs.existsSync(file)) throw new T5LoadError(`fromPretrained: ${dir} has no config.json (expected an HF T5 directory: config.json + model.safetensors)`, dir);
  let json: unknown;
  try {
    json = JSON.parse(await fs.promises.readFile(file, 'utf8'));
  } catch (e) {
    throw new T5LoadError(`fromPretrained: ${file} is not valid JSON (${(e as Error).message})`, dir);
  }
  return parseT5Config(json, file);
}

/**
 * Load an HF T5 directory: config.json + model.safetensors (or sharded with its index), F32/F16/BF16.
 * Every key and shape is accounted for: one StateDictError lists missing, unexpected and mis-shaped keys.
 */
export async function loadT5(dir: string, opts: { file?: string } = {}): Promise<T5ForConditionalGeneration> {
  const config = await readT5Config(dir);
  const tensors = await readCheckpoint(dir, opts.file);
  const model = new T5ForConditionalGeneration(config, { init: 'empty' });
  try {
    const own = new Map(model.stateDict());
    const { sharedKey, sharedAliases, tiedLmHead } = T5_CHECKPOINT_ALIASES;
    const aliases: string[] = [...sharedAliases, ...(config.tieWordEmbeddings ? [tiedLmHead] : [])];
    if (!tensors.has(sharedKey)) {
      const alias = aliases.find((k) => tensors.has(k));
      if (alias) tensors.set(sharedKey, tf.clone(tensors.get(alias) as tf.Tensor));
    }
    const mismatched: StateDictMismatch[] = [];
    const sharedShape = [config.vocabSize, config.dModel];
    for (const k of aliases) {
      const t = tensors.get(k);
      if (!t) continue;
      if (!tf.util.arraysEqual(t.shape, sharedShape)) mismatched.push({ key: k, expected: sharedShape, got: [...t.shape] });
      tensors.delete(k);
      t.dispose();
    }
    const missing = [...own.keys()].filter((k) => !tensors.has(k));
    const unexpected = [...tensors.keys()].filter((k) => !own.has(k));
    for (const [k, v] of own) {
      const t = tensors.get(k);
      if (t && !tf.util.arraysEqual(t.shape, v.shape)) mismatched.push({ key: k, expected: [...v.shape], got: [...t.shape] });
    }
    if (missing.length + unexpected.length + mismatched.length > 0) throw new StateDictError(missing, unexpected, mismatched, `fromPretrained(${dir})`);
    model.loadStateDict(tensors);
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  model.eval();
  return model;
}

/**
 * Write config.json, generation_config.json and model.safetensors (sharded above maxShardBytes) as HF
 * save_pretrained does: tied models store only shared.weight. With a vocabMap, pruned_vocab.json too.
 */
export async function saveT5(model: BaseT5, dir: string, opts: { maxShardBytes?: number; vocabMap?: VocabMap } = {}): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true });
  const c = model.config;
  await writeFileAtomic(path.join(dir, 'config.json'), `${JSON.stringify(t5ConfigToJson(c), null, 2)}\n`);
  const gen = { decoder_start_token_id: c.decoderStartTokenId, eos_token_id: c.eosTokenId, pad_token_id: c.padTokenId };
  await writeFileAtomic(path.join(dir, 'generation_config.json'), `${JSON.stringify(gen, null, 2)}\n`);
  await writeSharded(dir, new Map(model.namedParameters()), { maxShardBytes: opts.maxShardBytes, metadata: { format: 'pt' } });
  if (opts.vocabMap) {
    if (opts.vocabMap.size !== c.vocabSize) throw new VocabMapError(`saveT5: vocabMap has ${opts.vocabMap.size} ids but the model's vocab_size is ${c.vocabSize}`);
    await writeFileAtomic(path.join(dir, PRUNED_VOCAB_FILE), `${JSON.stringify(opts.vocabMap.toJson(), null, 2)}\n`);
  }
}

/** The pruned-vocabulary map saved beside a model, or undefined when the model uses the full vocabulary. */
export async function loadVocabMap(dir: string): Promise<VocabMap | undefined> {
  const file = path.join(dir, PRUNED_VOCAB_FILE);
  if (!fs.existsSync(file)) return undefined;
  return VocabMap.fromJson(JSON.parse(await fs.promises.readFile(file, 'utf8')), file);
}

/** The model class with Node IO: `T5ForConditionalGeneration.fromPretrained(dir)` and `model.savePretrained(dir)`. */
export class T5ForConditionalGeneration extends BaseT5 {
  static fromPretrained(dir: string, opts: { file?: string } = {}): Promise<T5ForConditionalGeneration> {
    return loadT5(dir, opts);
  }

  savePretrained(dir: string, opts: { maxShardBytes?: number; vocabMap?: VocabMap } = {}): Promise<void> {
    return saveT5(this, dir, opts);
  }
}

/** Same as T5ForConditionalGeneration.fromPretrained. */
export const fromPretrained = loadT5;
/** Same as model.savePretrained(dir). */
export const savePretrained = saveT5;
