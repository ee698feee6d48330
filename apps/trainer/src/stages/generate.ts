// `tagi generate`: instruction → adapter dir, from a trained hypernetwork alone. The base model is the one
// the hypernetwork's checkpoint names (or --model); no data, no base stage, no run dir. The dir is
// @tagi/hypernet's self-describing export: a peft pair (adapter_config.json + adapter_model.safetensors)
// plus tagi_adapter.json (and tagi_fusion.safetensors when the student also reads the encoded
// instruction). It appears whole or not at all (written under a temporary name, then renamed) and never
// replaces an existing one; a lock beside it keeps two writers apart.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { generateAdapter } from '@tagi/hypernet';
import { writeTaskAdapter } from '@tagi/hypernet/node';
import { acquireLock } from '@tagi/tensor-core/node';
import { modelTokenizer } from '../data/tasks.js';
import { CliError } from '../common/errors.js';
import { checkT5Dir } from '../run/inspect.js';
import { type TruncationReport, hypernetInstructionIds } from '@tagi/datasets';
import { loadBaseModel, loadCheckedHypernet } from '../data/models.js';

export interface GenerateOptions {
  readonly hypernetDir: string;
  /** Free text, treated as a task definition (as training formats one). */
  readonly instruction: string;
  readonly out: string;
  /** The base model when it is not where the hypernetwork's checkpoint says. */
  readonly model?: string;
  readonly info?: (message: string) => void;
  readonly warn?: (message: string) => void;
}

export interface GenerateResult {
  readonly out: string;
  readonly modelDir: string;
  /** The hypernetwork's input: the same ids training computes for a task with this definition. */
  readonly instructionIds: readonly number[];
  readonly truncation?: TruncationReport;
}

/** The base model dir a hypernetwork checkpoint names (absolute, or relative to the hypernet dir). */
export function recordedBaseModel(hypernetDir: string): string | undefined {
  const file = path.join(hypernetDir, 'hypernet_config.json');
  let json: { base_model?: { name?: unknown } };
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as typeof json;
  } catch (e) {
    throw new CliError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const name = json.base_model?.name;
  return typeof name === 'string' && name !== '' ? path.resolve(hypernetDir, name) : undefined;
}

export async function generate(o: GenerateOptions): Promise<GenerateResult> {
  const recorded = recordedBaseModel(o.hypernetDir);
  const modelDir = o.model ?? recorded;
  if (modelDir === undefined || (o.model === undefined && !existsSync(path.join(modelDir, 'config.json')))) {
    throw new CliError(
      `${path.join(o.hypernetDir, 'hypernet_config.json')}: base_model.name ${recorded === undefined ? 'is not set' : `is '${recorded}', which is not a model dir here`}; pass --model=HF_T5_DIR (the base it was trained on)`,
    );
  }
  checkT5Dir(modelDir, o.model === undefined ? 'base model (from hypernet_config.json)' : '--model');
  const model = await loadBaseModel(modelDir);
  const hn = await loadCheckedHypernet(o.hypernetDir, model);
  const tok = modelTokenizer(modelDir);
  // a user's text is a task definition: the same ids training computed for a task with this definition
  const { ids, truncation } = hypernetInstructionIds(tok, o.instruction, { numPos: 0, maxInstructionLength: hn.config.maxInstructionLength });
  if (truncation) {
    o.warn?.(
      `the instruction is ${truncation.tokensBefore} tokens, more than the hypernetwork reads (max_instruction_length ${hn.config.maxInstructionLength}); it was cut to ${truncation.tokensAfter} tokens (eos kept), as training cuts its instructions`,
    );
  }
  const t0 = performance.now();
  const task = generateAdapter(hn, ids);
  try {
    const parent = path.dirname(o.out);
    mkdirSync(parent, { recursive: true });
    const lock = acquireLock(path.join(parent, `.${path.basename(o.out)}.tagi.lock`), 'tagi generate');
    const tmp = path.join(parent, `.${path.basename(o.out)}.tmp-${process.pid}`);
    try {
      if (existsSync(o.out) && readdirSync(o.out).length > 0)
        throw new CliError(`--out: '${o.out}' appeared meanwhile and is not empty; nothing was overwritten`);
      rmSync(tmp, { recursive: true, force: true });
      await writeTaskAdapter(tmp, hn, task, { instruction: o.instruction, hypernetName: o.hypernetDir });
      renameSync(tmp, o.out);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    } finally {
      lock.release();
    }
  } finally {
    task.dispose();
    hn.dispose();
    model.dispose();
  }
  o.info?.(
    `wrote peft adapter ${o.out} (rank ${hn.config.rank}, instruction of ${ids.length} tokens, ${((performance.now() - t0) / 1000).toFixed(2)} s; base model ${modelDir})`,
  );
  if (hn.config.fusion !== 'none') {
    o.info?.(
      `note: this hypernetwork also fuses the encoded instruction into the model (fusion '${hn.config.fusion}'): the peft files alone are the LoRA part of the student; tagi_fusion.safetensors holds the rest (see tagi_adapter.json)`,
    );
  }
  return { out: o.out, modelDir, instructionIds: ids, ...(truncation ? { truncation } : {}) };
}
