// Weights entering the trainer: the base T5, peft adapters, hypernetworks — each loaded once and checked
// for NaN/Inf once, here (error naming the file and tensor), never in forward or loss.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { assertFinite } from '@tagi/tensor-core';
import { type HypernetConfig, HyperNetwork } from '@tagi/hypernet';
import { loadHypernet } from '@tagi/hypernet/node';
import { type AdapterSet, targetModulesRegex } from '@tagi/lora';
import { loadAdapter } from '@tagi/lora/node';
import type { T5ForConditionalGeneration } from '@tagi/t5-model';
import { loadT5 } from '@tagi/t5-model/node';
import type { TagiConfig } from './config.js';
import { slug } from './run.js';

/** An HF T5 dir, loaded, checked and frozen (only adapters and hypernetworks train on it). */
export async function loadBaseModel(dir: string): Promise<T5ForConditionalGeneration> {
  const model = await loadT5(dir);
  assertFinite(model.namedParameters(), path.join(dir, 'model.safetensors'));
  model.freezeBase();
  return model;
}

/** A peft adapter dir, checked against the model's modules and for NaN/Inf. */
export async function loadCheckedAdapter(dir: string, model: T5ForConditionalGeneration): Promise<AdapterSet> {
  const set = await loadAdapter(dir, { model });
  try {
    assertFinite(set.paths.flatMap((p) => [[`${p}.lora_A`, set.factorsOf(p)!.A] as const, [`${p}.lora_B`, set.factorsOf(p)!.B] as const]), path.join(dir, 'adapter_model.safetensors'));
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
    assertFinite(hn.namedParameters(), path.join(dir, 'hypernet.safetensors'));
  } catch (e) {
    hn.dispose();
    throw e;
  }
  return hn;
}

/**
 * The hypernetwork settings of the config. Targets stay peft's language: `hypernet.targetModules` is
 * passed as the one full-match regex that selects exactly what peft selects for it.
 */
export function hypernetConfigFor(c: TagiConfig): Partial<HypernetConfig> {
  return {
    rank: c.hypernet.rank,
    loraAlpha: c.hypernet.alpha,
    hiddenDim: c.hypernet.hiddenDim,
    moduleEmbeddingDim: Math.max(8, Math.min(64, Math.floor(c.hypernet.hiddenDim / 4))),
    fusion: c.hypernet.fusion,
    targets: [targetModulesRegex(c.hypernet.targetModules)],
    maxInstructionLength: c.prompt.maxSourceLength,
  };
}

/** A fresh hypernetwork for stage 2 or 3 (a copy of `from`'s weights and config when given). */
export function newHypernet(c: TagiConfig, model: T5ForConditionalGeneration, modelDir: string, from?: HyperNetwork): HyperNetwork {
  const hn = new HyperNetwork(model, from ? from.config : hypernetConfigFor(c), { seed: c.seed, baseModelName: modelDir });
  if (from) hn.loadStateDict(from.stateDict(), { strict: true });
  return hn;
}

/** Directory name of a teacher group. */
export const teacherDirName = (group: string) => slug(group).replace(/\//g, '_');
