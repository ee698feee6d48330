// Weights entering the trainer: the base T5, peft adapters, hypernetworks — each loaded once and checked
// for NaN/Inf once, here (error naming the file and tensor), never in forward or loss.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { type NamedWeights, NonFiniteError, findNonFinite } from '@tagi/tensor-core';
import { shardedFile } from '@tagi/tensor-core/node';
import { type FusionKind, type HypernetConfig, HyperNetwork } from '@tagi/hypernet';
import { loadHypernet } from '@tagi/hypernet/node';
import type { AdapterSet } from '@tagi/lora';
import { loadAdapter } from '@tagi/lora/node';
import type { T5ForConditionalGeneration } from '@tagi/t5-model';
import { loadT5 } from '@tagi/t5-model/node';
import type { TagiConfig } from '../config/config.js';
import { CliError } from '../common/errors.js';
import { slug } from '../run/run.js';

/**
 * What a load does with weights holding NaN/Inf: refuse them (the default), or, with --allow-non-finite,
 * warn and use them. Set once per command by main.ts: a process-wide setting (like the tfjs backend), because
 * every command and queue job loads through the functions below and none should decide it differently.
 */
let nonFinite: { allow: false } | { allow: true; warn: (message: string) => void } = { allow: false };

export function setNonFiniteWeights(policy: typeof nonFinite): void {
  nonFinite = policy;
}

/** The one check of loaded weights (tensor-core's findNonFinite), under the policy above. */
function checkWeights(weights: NamedWeights, file: string): void {
  const bad = findNonFinite(weights);
  if (bad === undefined) return;
  const e = new NonFiniteError(file, bad.tensor, bad.nan, bad.inf);
  if (nonFinite.allow) nonFinite.warn(`${e.message}; used anyway (--allow-non-finite)`);
  else throw new CliError(`${e.message}; to use them anyway, give --allow-non-finite to the command that loads them`);
}

/** An HF T5 dir, loaded, checked and frozen (only adapters and hypernetworks train on it). */
export async function loadBaseModel(dir: string): Promise<T5ForConditionalGeneration> {
  const model = await loadT5(dir);
  try {
    checkWeights(model, shardedFile(dir));
  } catch (e) {
    model.dispose();
    throw e;
  }
  model.freezeBase();
  return model;
}

/** A peft adapter dir, checked against the model's modules and for NaN/Inf. */
export async function loadCheckedAdapter(dir: string, model: T5ForConditionalGeneration): Promise<AdapterSet> {
  const set = await loadAdapter(dir, { model });
  try {
    checkWeights(set.deltas, path.join(dir, 'adapter_model.safetensors'));
  } catch (e) {
    set.dispose();
    throw e;
  }
  return set;
}

/** The teachers of a teachers dir (`<group>/adapter_config.json`), keyed by directory name (= slug of the group). */
export async function loadTeachers(dir: string, model: T5ForConditionalGeneration): Promise<Map<string, AdapterSet>> {
  const out = new Map<string, AdapterSet>();
  for (const name of readdirSync(dir).sort()) {
    if (existsSync(path.join(dir, name, 'adapter_config.json'))) out.set(name, await loadCheckedAdapter(path.join(dir, name), model));
  }
  return out;
}

/** A hypernetwork dir on the base model it was trained on (the checkpoint refuses another), checked for NaN/Inf. */
export async function loadCheckedHypernet(dir: string, model: T5ForConditionalGeneration): Promise<HyperNetwork> {
  const hn = await loadHypernet(dir, model);
  try {
    checkWeights(hn, path.join(dir, 'hypernet.safetensors'));
  } catch (e) {
    hn.dispose();
    throw e;
  }
  return hn;
}

/** The hypernetwork settings of the config (targets in peft's target_modules language, as everywhere in the CLI). */
export function hypernetConfigFor(c: TagiConfig): Partial<HypernetConfig> {
  return {
    rank: c.hypernet.rank,
    loraAlpha: c.hypernet.alpha,
    hiddenDim: c.hypernet.hiddenDim,
    moduleEmbeddingDim: Math.max(8, Math.min(64, Math.floor(c.hypernet.hiddenDim / 4))),
    fusion: c.hypernet.fusion,
    pooling: c.hypernet.pooling,
    targets: c.hypernet.targetModules,
    maxInstructionLength: c.prompt.maxSourceLength,
  };
}

/**
 * A fresh hypernetwork for stage 2 or 3, initialised with `seed`; with `from`, a copy of its config and
 * weights. `fusion` overrides the fusion (the w/o-fusion ablation starts a fusion-free network from the
 * pretrained weights: the weights both have are copied, fusion-only ones dropped).
 */
export function newHypernet(
  c: TagiConfig,
  model: T5ForConditionalGeneration,
  modelDir: string,
  from?: HyperNetwork,
  seed = c.seed,
  fusion?: FusionKind,
): HyperNetwork {
  const config = from ? from.config : hypernetConfigFor(c);
  const hn = new HyperNetwork(model, fusion !== undefined ? { ...config, fusion } : config, { seed, baseModelName: modelDir });
  if (from) {
    const own = new Set(hn.namedParameters().map(([k]) => k));
    const state = from.stateDict();
    const missing = [...own].filter((k) => !state.has(k));
    if (missing.length > 0) {
      hn.dispose();
      throw new CliError(
        `cannot start a hypernetwork with fusion '${fusion ?? config.fusion}' from pretrained weights with fusion '${from.config.fusion}' (it lacks ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''})`,
      );
    }
    hn.loadStateDict(new Map([...state].filter(([k]) => own.has(k))), { strict: true });
  }
  return hn;
}

/** Directory name of a teacher group. */
export const teacherDirName = (group: string) => slug(group).replace(/\//g, '_');

/** A trained hypernetwork to evaluate: its method row and training seed. */
export interface HypernetEntry {
  readonly method: string;
  readonly seed: number;
  readonly hn: HyperNetwork;
}

/** The adapter and hypernetworks `tagi eval` was given (--adapter, --hypernet). */
export interface EvalModels {
  multitask?: AdapterSet;
  hypernets: HypernetEntry[];
}

/**
 * The models `tagi eval` compares besides the base: --adapter (the multitask LoRA) and --hypernet (the
 * TAGI row, recorded under the run's seed). One loader for the single process and the queue workers, so
 * both evaluate the same method rows.
 */
export async function loadEvalModels(c: TagiConfig, model: T5ForConditionalGeneration): Promise<EvalModels> {
  const multitask = c.adapter === undefined ? undefined : await loadCheckedAdapter(c.adapter, model);
  const tagi = c.hypernetDir === undefined ? undefined : await loadCheckedHypernet(c.hypernetDir, model);
  return { ...(multitask ? { multitask } : {}), hypernets: tagi ? [{ method: 'tagi', seed: c.seed, hn: tagi }] : [] };
}
