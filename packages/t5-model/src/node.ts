// Node-only IO for @tagi/t5-model: tokenizer files and HF checkpoint directories.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { StateDictError, type StateDictMismatch } from '@tagi/tensor-core';
import { readSafetensors, readSharded, writeFileAtomic, writeSharded } from '@tagi/tensor-core/node';
import { hfHeadLayout, parseT5Config, stringifyT5Config, type T5Config } from './config.js';
import { T5ForConditionalGeneration as BaseT5, TIED_ALIAS_KEYS, TIED_LM_HEAD_KEY } from './model.js';
import { T5Tokenizer, TokenizerError } from './tokenizer.js';
import { PRUNED_VOCAB_FILE, VocabMap, VocabMapError } from './vocab.js';
import { T5_MODEL_FILES, expandHome, parseHubId, resolvePretrained, type ResolveOptions } from './hub.js';

// Hub ids and the HF cache (Node-only)
export {
  resolvePretrained,
  parseHubId,
  expandHome,
  hfHome,
  hfHubCache,
  hfToken,
  repoFolderName,
  T5_MODEL_FILES,
  PEFT_ADAPTER_FILES,
  HubError,
  RepoNotFoundError,
  GatedRepoError,
  OfflineCacheMissError,
} from './hub.js';
export type { ResolveOptions, RepoFiles, DownloadProgress, HubRef, HubErrorCode } from './hub.js';

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
 * `sharedAliases` are copies of `shared.weight` written by some HF versions; `lmHeadKey` is one more
 * alias when it equals `shared.weight` (a tied head). Aliases are accepted (shape-checked) and dropped.
 */
export const T5_CHECKPOINT_ALIASES = {
  sharedKey: 'shared.weight',
  sharedAliases: TIED_ALIAS_KEYS,
  lmHeadKey: TIED_LM_HEAD_KEY,
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
  if (!fs.existsSync(file))
    throw new T5LoadError(`fromPretrained: ${dir} has no config.json (expected an HF T5 directory: config.json + model.safetensors)`, dir);
  let json: unknown;
  try {
    json = JSON.parse(await fs.promises.readFile(file, 'utf8'));
  } catch (e) {
    throw new T5LoadError(`fromPretrained: ${file} is not valid JSON (${(e as Error).message})`, dir);
  }
  return parseT5Config(json, file);
}

/** Something a load or save did that the file did not say outright; the caller decides whether to show it. */
export interface T5FileWarning {
  /**
   * 'lm-head-kept-separate': the config says tied but the checkpoint has its own, different lm_head.weight.
   * 'lm-head-tied-to-shared': the config says untied but the checkpoint has no lm_head.weight.
   * 'not-transformers4': a saved model that transformers 4 cannot rebuild (separate head with rescaling).
   */
  readonly code: 'lm-head-kept-separate' | 'lm-head-tied-to-shared' | 'not-transformers4';
  readonly message: string;
  readonly dir: string;
}

/**
 * Options of `fromPretrained` / `loadT5`. The first argument is a directory or a Hub id `org/name[@revision]`;
 * ids resolve through the HF cache (see `resolvePretrained`: `revision`, `cacheDir`, `offline`, `endpoint`,
 * `token`, `onProgress`).
 */
export interface LoadT5Options extends Omit<ResolveOptions, 'files'> {
  /** A single safetensors file in the directory instead of model.safetensors / the sharded index. */
  file?: string;
  /** Called for every {@link T5FileWarning}; nothing is printed otherwise. */
  onWarning?: (w: T5FileWarning) => void;
}

function sameValues(a: tf.Tensor, b: tf.Tensor): boolean {
  if (!tf.util.arraysEqual(a.shape, b.shape)) return false;
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * Load an HF T5 directory: config.json + model.safetensors (or sharded with its index), F32/F16/BF16,
 * written by transformers 4 or 5. Every key and shape is accounted for: one StateDictError lists missing,
 * unexpected and mis-shaped keys. The LM head follows the file, as transformers 5 decides it: a
 * `lm_head.weight` that differs from `shared.weight` is a separate head whatever `tie_word_embeddings`
 * says; none (or an equal one) means the head is `shared`. The rescaling follows `scale_decoder_outputs`
 * (else `tie_word_embeddings`). The returned model's config says what was built (`tieWordEmbeddings`
 * false exactly when it has a separate `lm_head`); disagreements with config.json go to `onWarning`.
 */
export async function loadT5(idOrDir: string, opts: LoadT5Options = {}): Promise<T5ForConditionalGeneration> {
  const local = expandHome(idOrDir);
  if (!fs.existsSync(local) && !parseHubId(idOrDir)) {
    throw new T5LoadError(`fromPretrained: directory ${local} does not exist (and '${idOrDir}' is not a Hub id org/name[@revision])`, local);
  }
  const files = opts.file ? { required: ['config.json', opts.file], optional: T5_MODEL_FILES.optional } : T5_MODEL_FILES;
  const dir = await resolvePretrained(idOrDir, { ...opts, files });
  const fileConfig = await readT5Config(dir);
  const tensors = await readCheckpoint(dir, opts.file);
  const weightsName = opts.file ?? 'the checkpoint';
  let model: T5ForConditionalGeneration | undefined;
  try {
    const { sharedKey, sharedAliases, lmHeadKey } = T5_CHECKPOINT_ALIASES;
    // transformers 5 ties symmetrically: a missing shared.weight is taken from whichever alias exists
    if (!tensors.has(sharedKey)) {
      const alias = [...sharedAliases, lmHeadKey].find((k) => tensors.has(k));
      if (alias) tensors.set(sharedKey, tf.clone(tensors.get(alias) as tf.Tensor));
    }
    const shared = tensors.get(sharedKey);
    const head = tensors.get(lmHeadKey);
    const separate = head !== undefined && !(shared !== undefined && sameValues(head, shared));
    if (separate && fileConfig.tieWordEmbeddings) {
      opts.onWarning?.({
        code: 'lm-head-kept-separate',
        dir,
        message: `${dir}: config.json says tie_word_embeddings: true but ${weightsName} has its own lm_head.weight (different from shared.weight); using it as a separate LM head, as transformers 5 does`,
      });
    }
    if (!head && !fileConfig.tieWordEmbeddings) {
      opts.onWarning?.({
        code: 'lm-head-tied-to-shared',
        dir,
        message: `${dir}: config.json says tie_word_embeddings: false but ${weightsName} has no lm_head.weight; the LM head is shared.weight, as transformers 5 does (transformers 4 would leave it uninitialised)`,
      });
    }
    const config: T5Config = Object.freeze({ ...fileConfig, tieWordEmbeddings: !separate });
    model = new T5ForConditionalGeneration(config, { init: 'empty' });
    const own = new Map(model.stateDict());
    const mismatched: StateDictMismatch[] = [];
    const sharedShape = [config.vocabSize, config.dModel];
    // aliases of shared.weight: shape-checked and dropped (the head too when it is tied)
    for (const k of [...sharedAliases, ...(separate ? [] : [lmHeadKey])]) {
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
    model?.dispose();
    throw e;
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  model.eval();
  return model;
}

export interface SaveT5Options {
  /** Shard model.safetensors above this many bytes (with model.safetensors.index.json). */
  maxShardBytes?: number;
  /** A pruned vocabulary: written beside the model as pruned_vocab.json. */
  vocabMap?: VocabMap;
  /** Called for every {@link T5FileWarning} (a model transformers 4 cannot rebuild). */
  onWarning?: (w: T5FileWarning) => void;
}

/**
 * Write config.json, generation_config.json and model.safetensors (sharded above maxShardBytes) so that
 * transformers 4 and 5 both load the same model (see `hfHeadLayout`): a tied v1.0 model stores only
 * shared.weight, an untied one its lm_head too, and a tied head without rescaling (a v1.1 model made by
 * transformers 5) a copy of shared.weight as lm_head.weight, because transformers 4 has no other way to
 * express it (transformers 5 re-ties equal weights). Float fields are written as floats. With a vocabMap,
 * pruned_vocab.json too.
 */
export async function saveT5(model: BaseT5, dir: string, opts: SaveT5Options = {}): Promise<void> {
  const c = model.config;
  if (opts.vocabMap && opts.vocabMap.size !== c.vocabSize)
    throw new VocabMapError(`saveT5: vocabMap has ${opts.vocabMap.size} ids but the model's vocab_size is ${c.vocabSize}`);
  const layout = hfHeadLayout(c);
  if ((layout.lmHeadInFile === 'own') !== (model.lm_head !== undefined)) {
    throw new T5LoadError(`saveT5: config.tieWordEmbeddings is ${c.tieWordEmbeddings} but the model ${model.lm_head ? 'has' : 'has no'} lm_head`, dir);
  }
  await fs.promises.mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, 'config.json'), stringifyT5Config(c));
  const gen = { decoder_start_token_id: c.decoderStartTokenId, eos_token_id: c.eosTokenId, pad_token_id: c.padTokenId };
  await writeFileAtomic(path.join(dir, 'generation_config.json'), `${JSON.stringify(gen, null, 2)}\n`);
  const tensors = new Map<string, tf.Tensor>(model.namedParameters());
  if (layout.lmHeadInFile === 'copy-of-shared') tensors.set(T5_CHECKPOINT_ALIASES.lmHeadKey, model.shared.weight);
  await writeSharded(dir, tensors, { maxShardBytes: opts.maxShardBytes, metadata: { format: 'pt' } });
  if (opts.vocabMap) await writeFileAtomic(path.join(dir, PRUNED_VOCAB_FILE), `${JSON.stringify(opts.vocabMap.toJson(), null, 2)}\n`);
  if (!layout.transformers4) {
    opts.onWarning?.({
      code: 'not-transformers4',
      dir,
      message: `${dir}: a separate LM head with decoder-output rescaling (scale_decoder_outputs: true) loads correctly in transformers 5 only; transformers 4 cannot express it`,
    });
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
  /** A directory or a Hub id `org/name[@revision]` (resolved through the HF cache). */
  static fromPretrained(idOrDir: string, opts: LoadT5Options = {}): Promise<T5ForConditionalGeneration> {
    return loadT5(idOrDir, opts);
  }

  savePretrained(dir: string, opts: SaveT5Options = {}): Promise<void> {
    return saveT5(this, dir, opts);
  }
}

/** Same as T5ForConditionalGeneration.fromPretrained. */
export const fromPretrained = loadT5;
/** Same as model.savePretrained(dir). */
export const savePretrained = saveT5;
