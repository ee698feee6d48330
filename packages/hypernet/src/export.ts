// Self-describing task-adapter exports (browser-safe: bytes in, bytes out; the directory IO is in './node').
// An export is a peft directory (adapter_config.json + adapter_model.safetensors, loadable by Python peft
// unchanged) plus `tagi_adapter.json`, which says what the files are: the instruction, the hypernetwork
// checkpoint (SHA-256 of its weights file), the base model (config hash, weight fingerprint), the fusion kind,
// and whether the peft part alone reproduces the TAGI model (only with fusion 'none'). With 'concat' or
// 'cross-attention' fusion the student also reads the encoded instruction, so the export carries
// `tagi_fusion.safetensors` (the instruction states, and the per-layer fusion blocks for 'cross-attention')
// and `taskAdapterFromFiles` rebuilds the full TAGI model from the base model and the export alone.
import * as tf from '@tensorflow/tfjs-core';
import { Rng, parseSafetensors, serializeSafetensors, stableJson } from '@tagi/tensor-core';
import { AdapterSet, parseLoraConfigText, stringifyLoraConfig } from '@tagi/lora';
import type { BaseSeq2SeqModel } from './base-model.js';
import { baseModelJson, baseModelReference, checkBaseModel, hypernetWeightsSha256 } from './checkpoint.js';
import { type FusionKind, type HypernetConfig, hypernetConfigToJson, parseHypernetConfig } from './config.js';
import { HypernetCheckpointError, HypernetInputError } from './errors.js';
import { type HyperNetwork, makeFusionLayers } from './hypernet.js';
import type { TaskAdapter } from './inference.js';

/** peft's file names (what `PeftModel.from_pretrained(dir)` reads). */
export const PEFT_CONFIG_FILE = 'adapter_config.json';
export const PEFT_WEIGHTS_FILE = 'adapter_model.safetensors';
/** What the export is (JSON, sorted keys). */
export const TAGI_ADAPTER_FILE = 'tagi_adapter.json';
/** What fusion reads besides the adapter (absent with fusion 'none'). */
export const TAGI_FUSION_FILE = 'tagi_fusion.safetensors';
export const TAGI_ADAPTER_FORMAT = 'tagi-adapter';
export const TAGI_ADAPTER_VERSION = 1;

/** True when the generated LoRA alone is the whole TAGI student (fusion 'none'): a peft export then reproduces it exactly. */
export function peftReproducesTagi(fusion: FusionKind): boolean {
  return fusion === 'none';
}

/** The contents of `tagi_adapter.json` (runtime form). */
export interface TaskAdapterMeta {
  /** The instruction text the adapter was generated from, as given by the caller. */
  readonly instruction: string;
  /** Its token ids as the hypernetwork read them. */
  readonly instructionIds: readonly number[];
  readonly fusion: FusionKind;
  /** Whether base + the peft files alone compute the TAGI student (fusion 'none'). */
  readonly peftReproducesTagi: boolean;
  readonly hypernet: {
    /** Where the hypernetwork came from (checkpoint directory or id), informational. */
    readonly name: string | null;
    /** SHA-256 of its `hypernet.safetensors` (as `saveHypernet` writes it). */
    readonly weightsSha256: string;
    readonly config: HypernetConfig;
  };
  /** The `base_model` reference (as in `hypernet_config.json`): name, shape, config hash, weight fingerprint. */
  readonly baseModel: Readonly<Record<string, unknown>>;
  /** `tagi_fusion.safetensors`, or null with fusion 'none'. */
  readonly fusionFile: string | null;
}

export interface TaskAdapterFilesOptions {
  /** The instruction text (what the user typed, before tokenisation). */
  readonly instruction: string;
  /** Recorded as `hypernet.name` (e.g. the checkpoint directory). Default null. */
  readonly hypernetName?: string;
  /** SHA-256 of the checkpoint's `hypernet.safetensors` when the caller already has it (else computed from the live weights). */
  readonly hypernetSha256?: string;
}

/** How to use the files, written into `tagi_adapter.json` for a reader who finds only the directory. */
function usageNote(fusion: FusionKind): string {
  if (fusion === 'none') return 'base model + this peft adapter (PeftModel.from_pretrained) is the whole TAGI model; no instruction is read at inference.';
  if (fusion === 'concat') {
    return 'the peft adapter alone is NOT the TAGI model: prepend tagi_fusion.safetensors instruction.states (mask instruction.mask) to the encoder output before the decoder cross-attention (see @tagi/hypernet README).';
  }
  return 'the peft adapter alone is NOT the TAGI model: after every encoder block i add the cross-attention block fusion_layers.i over instruction.states (tagi_fusion.safetensors; formula in the @tagi/hypernet README).';
}

/**
 * The files of a self-describing export of one generated task adapter, as bytes (name → content): the peft
 * pair, `tagi_adapter.json`, and `tagi_fusion.safetensors` unless fusion is 'none'. `task` must come from
 * `generateAdapter(hn, ...)`.
 */
export async function taskAdapterFiles(
  hn: HyperNetwork,
  task: TaskAdapter,
  opts: TaskAdapterFilesOptions,
): Promise<{ files: Map<string, Uint8Array>; meta: TaskAdapterMeta }> {
  if (typeof opts.instruction !== 'string' || opts.instruction.trim() === '')
    throw new HypernetInputError('instruction', 'the non-empty instruction text', JSON.stringify(opts.instruction));
  if (task.fusion !== hn.config.fusion)
    throw new HypernetInputError('task', `an adapter generated by this hypernetwork (fusion '${hn.config.fusion}')`, `fusion '${task.fusion}'`);
  if (task.adapter.batch !== undefined)
    throw new HypernetInputError('task.adapter', 'shared factors (one task)', `per-example factors (batch ${task.adapter.batch})`);
  const fusion = task.fusion;
  const enc = task.instruction;
  if (fusion !== 'none' && !enc) throw new HypernetInputError('task.instruction', `the encoded instruction (fusion '${fusion}')`, 'undefined');
  const files = new Map<string, Uint8Array>();
  const text = (s: string) => new TextEncoder().encode(s);
  const peft = task.adapter.toPeftTensors();
  try {
    files.set(PEFT_WEIGHTS_FILE, serializeSafetensors(peft, { format: 'pt' })); // as @tagi/lora/node's saveAdapter
  } finally {
    tf.dispose([...peft.values()]);
  }
  files.set(PEFT_CONFIG_FILE, text(stringifyLoraConfig(task.adapter.config)));
  if (fusion !== 'none' && enc) {
    const tensors = new Map<string, tf.Tensor>([
      ['instruction.states', enc.states], // [1, len, dModel]: the frozen encoder's output over the instruction
      ['instruction.mask', enc.mask], // [1, len]
    ]);
    if (fusion === 'cross-attention') for (const [k, v] of hn.namedParameters()) if (k.startsWith('fusion_layers.')) tensors.set(k, v);
    files.set(TAGI_FUSION_FILE, serializeSafetensors(tensors, { format: 'pt', tagi: 'fusion', fusion }));
  }
  const meta: TaskAdapterMeta = {
    instruction: opts.instruction,
    instructionIds: [...task.instructionIds],
    fusion,
    peftReproducesTagi: peftReproducesTagi(fusion),
    hypernet: { name: opts.hypernetName ?? null, weightsSha256: opts.hypernetSha256 ?? (await hypernetWeightsSha256(hn)), config: hn.config },
    baseModel: baseModelJson(baseModelReference(hn.base, hn.baseModelName ?? null)),
    fusionFile: fusion === 'none' ? null : TAGI_FUSION_FILE,
  };
  files.set(TAGI_ADAPTER_FILE, text(stableJson(metaToJson(meta))));
  return { files, meta };
}

function metaToJson(m: TaskAdapterMeta): Record<string, unknown> {
  return {
    base_model: m.baseModel,
    files: { fusion: m.fusionFile, peft: [PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE] },
    format: TAGI_ADAPTER_FORMAT,
    format_version: TAGI_ADAPTER_VERSION,
    fusion: m.fusion,
    hypernet: { config: hypernetConfigToJson(m.hypernet.config), name: m.hypernet.name, weights_sha256: m.hypernet.weightsSha256 },
    instruction: m.instruction,
    instruction_ids: m.instructionIds,
    peft_reproduces_tagi: m.peftReproducesTagi,
    usage: usageNote(m.fusion),
  };
}

/** Parses `tagi_adapter.json` (forward-compatible: unknown keys are ignored). */
export function parseTaskAdapterMeta(text: string, source = TAGI_ADAPTER_FILE): TaskAdapterMeta {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new HypernetCheckpointError(source, `invalid JSON (${(e as Error).message})`);
  }
  const fail = (field: string, expected: string): never => {
    throw new HypernetCheckpointError(source, `${field}: expected ${expected}, got ${JSON.stringify(o?.[field.split('.')[0] as string])}`);
  };
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new HypernetCheckpointError(source, '(root): expected an object');
  if (o['format'] !== TAGI_ADAPTER_FORMAT) fail('format', `'${TAGI_ADAPTER_FORMAT}'`);
  if (o['format_version'] !== TAGI_ADAPTER_VERSION) fail('format_version', String(TAGI_ADAPTER_VERSION));
  const fusion = o['fusion'];
  if (fusion !== 'none' && fusion !== 'concat' && fusion !== 'cross-attention') fail('fusion', "'none', 'concat' or 'cross-attention'");
  if (typeof o['instruction'] !== 'string') fail('instruction', 'a string');
  const ids = o['instruction_ids'];
  if (!Array.isArray(ids) || !ids.every((x) => Number.isInteger(x))) fail('instruction_ids', 'a list of token ids');
  const hn = o['hypernet'] as Record<string, unknown> | undefined;
  if (!hn || typeof hn !== 'object' || typeof hn['weights_sha256'] !== 'string') fail('hypernet', '{ config, name, weights_sha256 }');
  let config: HypernetConfig;
  try {
    config = parseHypernetConfig((hn as Record<string, unknown>)['config'], `${source}: hypernet.config`).config;
  } catch (e) {
    throw new HypernetCheckpointError(source, (e as Error).message);
  }
  if (config.fusion !== fusion) fail('fusion', `the fusion of hypernet.config ('${config.fusion}')`);
  const base = o['base_model'];
  if (!base || typeof base !== 'object') fail('base_model', 'the base-model reference');
  const files = o['files'] as { fusion?: unknown } | undefined;
  const fusionFile = files?.fusion ?? null;
  if (fusionFile !== (fusion === 'none' ? null : TAGI_FUSION_FILE)) fail('files', `{ fusion: ${fusion === 'none' ? 'null' : `'${TAGI_FUSION_FILE}'`} }`);
  return {
    instruction: o['instruction'] as string,
    instructionIds: ids as number[],
    fusion: fusion as FusionKind,
    peftReproducesTagi: peftReproducesTagi(fusion as FusionKind),
    hypernet: { name: typeof hn?.['name'] === 'string' ? (hn['name'] as string) : null, weightsSha256: hn?.['weights_sha256'] as string, config },
    baseModel: base as Record<string, unknown>,
    fusionFile: fusionFile as string | null,
  };
}

export interface TaskAdapterLoadOptions {
  /** Accept a base model whose weights differ from the recorded fingerprint (same shapes). Default false. */
  readonly allowDifferentBaseWeights?: boolean;
  /** Prefix of file names in errors (the export directory). */
  readonly source?: string;
}

/** A task adapter rebuilt from an export, with what `tagi_adapter.json` says about it. */
export interface LoadedTaskAdapter extends TaskAdapter {
  readonly meta: TaskAdapterMeta;
}

/**
 * Rebuilds the full TAGI student for one task from the export's files and the base model alone (no
 * hypernetwork): the peft adapter, plus for 'concat' the instruction prefix and for 'cross-attention' the
 * per-layer fusion blocks and the instruction they read. Use it with `generateWithTask(base, task, ...)` or
 * `taskForwardArgs(task, batch)`. The base model must be the one recorded (HypernetCheckpointError otherwise).
 */
export function taskAdapterFromFiles(base: BaseSeq2SeqModel, files: ReadonlyMap<string, Uint8Array>, opts: TaskAdapterLoadOptions = {}): LoadedTaskAdapter {
  const where = (f: string) => (opts.source ? `${opts.source}/${f}` : f);
  const need = (f: string): Uint8Array => {
    const b = files.get(f);
    if (!b) throw new HypernetCheckpointError(where(f), 'missing from the export');
    return b;
  };
  const text = (f: string) => new TextDecoder().decode(need(f));
  const meta = parseTaskAdapterMeta(text(TAGI_ADAPTER_FILE), where(TAGI_ADAPTER_FILE));
  checkBaseModel(meta.baseModel, base, opts, where(TAGI_ADAPTER_FILE), 'export');
  const config = parseLoraConfigText(text(PEFT_CONFIG_FILE), where(PEFT_CONFIG_FILE));
  const { tensors } = parseSafetensors(need(PEFT_WEIGHTS_FILE), where(PEFT_WEIGHTS_FILE));
  let adapter: AdapterSet;
  try {
    adapter = AdapterSet.fromPeftTensors(config, tensors, { model: base });
  } catch (e) {
    tf.dispose([...tensors.values()]);
    throw new HypernetCheckpointError(where(PEFT_WEIGHTS_FILE), (e as Error).message);
  }
  if (meta.fusion === 'none') {
    return {
      adapter,
      fusion: 'none',
      instruction: undefined,
      fusionLayers: undefined,
      instructionIds: meta.instructionIds,
      meta,
      dispose: () => adapter.dispose(),
    };
  }
  const fusionFile = where(TAGI_FUSION_FILE);
  let fusionTensors: Map<string, tf.Tensor>;
  try {
    fusionTensors = parseSafetensors(need(TAGI_FUSION_FILE), fusionFile).tensors;
  } catch (e) {
    adapter.dispose();
    throw e;
  }
  const fail = (fault: string): never => {
    adapter.dispose();
    tf.dispose([...fusionTensors.values()]);
    throw new HypernetCheckpointError(fusionFile, fault);
  };
  const states = fusionTensors.get('instruction.states');
  const mask = fusionTensors.get('instruction.mask');
  const d = base.config.dModel;
  if (!states || states.rank !== 3 || states.shape[0] !== 1 || states.shape[2] !== d)
    fail(`instruction.states: expected [1, len, ${d}], got ${states ? `[${states.shape.join(', ')}]` : 'none'}`);
  if (!mask || mask.rank !== 2 || mask.shape[0] !== 1 || mask.shape[1] !== states?.shape[1])
    fail(`instruction.mask: expected [1, ${states?.shape[1]}], got ${mask ? `[${mask.shape.join(', ')}]` : 'none'}`);
  const unexpected = [...fusionTensors.keys()].filter(
    (k) => !k.startsWith('instruction.') && !(meta.fusion === 'cross-attention' && k.startsWith('fusion_layers.')),
  );
  if (unexpected.length > 0) fail(`unexpected tensors for fusion '${meta.fusion}': ${unexpected.join(', ')}`);
  const instruction = { states: states as tf.Tensor3D, mask: mask as tf.Tensor2D };
  let fusionLayers;
  if (meta.fusion === 'cross-attention') {
    fusionLayers = makeFusionLayers(base, new Rng(0)); // initial values are overwritten below
    const own = new Map([...fusionTensors].filter(([k]) => k.startsWith('fusion_layers.')).map(([k, v]) => [k.slice('fusion_layers.'.length), v]));
    try {
      fusionLayers.loadStateDict(own, { strict: true });
    } catch (e) {
      fusionLayers.dispose();
      fail((e as Error).message);
    }
    fusionLayers.setTrainable(false);
    fusionLayers.eval();
  }
  for (const [k, v] of fusionTensors) if (k !== 'instruction.states' && k !== 'instruction.mask') v.dispose(); // copied into the blocks
  const layers = fusionLayers;
  return {
    adapter,
    fusion: meta.fusion,
    instruction,
    fusionLayers: layers,
    instructionIds: meta.instructionIds,
    meta,
    dispose() {
      adapter.dispose();
      tf.dispose([instruction.states, instruction.mask]);
      layers?.dispose();
    },
  };
}
