// The model inputs of a checked invocation, made ready once, before any run dir or output is created:
// a Hub id `--model=org/name[@revision]` (and `--adapter`, `--hypernet`: what `tagi push` uploads) becomes its
// snapshot directory in the HF cache (@tagi/t5-model's resolvePretrained: downloads with progress on stderr,
// HF_HUB_OFFLINE / HF_ENDPOINT / HF_TOKEN honoured),
// and the model's vocabulary is checked against the tokenizer the run will use, so a model that cannot
// read the data fails here with exit 2 instead of deep inside a stage. A --queue is connected to once (and
// let go) here too.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { HubError, PEFT_ADAPTER_FILES, T5_MODEL_FILES, resolvePretrained, type DownloadProgress, type RepoFiles } from '@tagi/t5-model/node';
import { CliError } from '../common/errors.js';
import { checkT5Dir } from '../run/inspect.js';
import type { Invocation } from './invocation.js';
import type { CliIO } from '../common/io.js';
import { isHubModel } from '../common/paths.js';
import { BASE_MODEL_FOLDER, hubRefOfSnapshot } from '../hub/push.js';

/** A peft adapter repo, with what a task-adapter export adds (`tagi generate`, the playground's export). */
export const ADAPTER_REPO_FILES: RepoFiles = { ...PEFT_ADAPTER_FILES, optional: ['tagi_adapter.json', 'tagi_fusion.safetensors'] };

/** A hypernetwork repo: its two files, and the base model `tagi push` carries under base-model/ when it is not on the Hub. */
export const HYPERNET_REPO_FILES: RepoFiles = {
  required: ['hypernet_config.json', 'hypernet.safetensors'],
  optional: ['config.json', 'model.safetensors', 'model.safetensors.index.json', ...(T5_MODEL_FILES.optional ?? [])].map((f) => `${BASE_MODEL_FOLDER}/${f}`),
};

/** Progress of a Hub download on stderr: one line per file (redrawn on a terminal). */
function progressReporter(id: string, io: CliIO): (p: DownloadProgress) => void {
  const mb = (n: number) => (n / 1e6).toFixed(1);
  let last = '';
  return (p) => {
    const done = p.loaded >= p.total;
    if (io.tty) {
      io.stderr.write(`\rtagi: downloading ${id}: ${p.file} ${mb(p.loaded)}/${mb(p.total)} MB${done ? '\n' : ''}`);
    } else if (done && last !== p.file) {
      last = p.file;
      io.stderr.write(`tagi: downloaded ${id}: ${p.file} (${mb(p.total)} MB)\n`);
    }
  };
}

/** A `--model` (or `--adapter`, `--hypernet` with their `files`) Hub id → its local snapshot directory (typed Hub errors become one message naming the flag). */
export async function resolveModelId(id: string, io: CliIO, flag = '--model', files?: RepoFiles): Promise<string> {
  try {
    return await resolvePretrained(id, { onProgress: progressReporter(id, io), ...(files ? { files } : {}) });
  } catch (e) {
    if (e instanceof HubError) {
      const advice =
        e.code === 'offline-cache-miss'
          ? '; unset HF_HUB_OFFLINE to download it, or give a local directory'
          : e.code === 'repo-not-found'
            ? '; check the id (org/name[@revision]) or give a local directory (a relative path that does not exist is read as a Hub id)'
            : e.code === 'gated'
              ? '; accept its conditions on the Hub and set HF_TOKEN'
              : '';
      throw new CliError(`${flag}=${id}: ${e.message}${advice}`);
    }
    throw e;
  }
}

/**
 * The ids the tokenizer of `dir` produces must exist in its embedding: a model trained on a pruned
 * vocabulary needs its pruned_vocab.json (or tokenizer.json) beside it.
 */
export async function checkModelVocab(dir: string, flag = '--model'): Promise<void> {
  const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as { vocab_size?: unknown };
  const vocab = config.vocab_size;
  if (typeof vocab !== 'number') throw new CliError(`${flag}: '${dir}/config.json' has no numeric vocab_size`);
  const { modelTokenizer } = await import('../data/tasks.js');
  const tok = modelTokenizer(dir);
  if (tok.vocabSize > vocab) {
    const which = existsSync(path.join(dir, 'pruned_vocab.json'))
      ? 'its pruned_vocab.json'
      : existsSync(path.join(dir, 'tokenizer.json'))
        ? 'its tokenizer.json'
        : 'the standard T5 tokenizer (the dir has no tokenizer.json or pruned_vocab.json)';
    throw new CliError(
      `${flag}: '${dir}' has vocab_size ${vocab} (config.json), but ${which} produces ids up to ${tok.vocabSize - 1}: the model cannot read this tokenizer's ids. ` +
        `Put the tokenizer the model was trained with beside it (a base trained by 'tagi base' carries pruned_vocab.json), or use a model with the T5 vocabulary (32,128 rows)`,
    );
  }
}

/**
 * The base model of a hypernetwork pulled from the Hub, when the one it records is not on this machine: the copy
 * `tagi push` carried along (base-model/), or the Hub model whose HF-cache snapshot it was trained on elsewhere.
 */
async function pulledHypernetBase(hypernetDir: string, io: CliIO): Promise<string | undefined> {
  const { recordedBaseModel } = await import('../stages/generate.js');
  const recorded = recordedBaseModel(hypernetDir);
  if (recorded !== undefined && existsSync(path.join(recorded, 'config.json'))) return undefined; // generate finds it
  const carried = path.join(hypernetDir, BASE_MODEL_FOLDER);
  if (existsSync(path.join(carried, 'config.json'))) return carried;
  const ref = recorded === undefined ? undefined : hubRefOfSnapshot(recorded);
  return ref === undefined ? undefined : resolveModelId(`${ref.repo}@${ref.commit}`, io, '--hypernet (its base model)');
}

/** The invocation with Hub ids (`--model`, `--adapter`, `--hypernet`) resolved to checked local directories (nothing else changes). */
export async function prepareInputs(inv: Invocation): Promise<Invocation> {
  if (inv.command === 'inspect' || inv.command === 'worker' || inv.command === 'push') return inv; // a worker reads each job's run config
  if (inv.command === 'generate') {
    const hypernetDir = isHubModel(inv.hypernetDir) ? await resolveModelId(inv.hypernetDir, inv.io, '--hypernet', HYPERNET_REPO_FILES) : inv.hypernetDir;
    const model =
      inv.model === undefined
        ? hypernetDir !== inv.hypernetDir
          ? await pulledHypernetBase(hypernetDir, inv.io)
          : undefined
        : isHubModel(inv.model)
          ? await resolveModelId(inv.model, inv.io)
          : inv.model;
    if (model !== undefined && model !== inv.model) checkT5Dir(model);
    return { ...inv, hypernetDir, ...(model !== undefined ? { model } : {}) };
  }
  // a queue that cannot be reached or refuses the login: exit 2 now, before a run dir exists
  if (inv.queue !== undefined) await (await import('../queue/jobs.js')).probeQueue(inv.queue);
  let config = inv.config;
  if (config.adapter !== undefined && isHubModel(config.adapter))
    config = { ...config, adapter: await resolveModelId(config.adapter, inv.io, '--adapter', ADAPTER_REPO_FILES) };
  if (config.hypernetDir !== undefined && isHubModel(config.hypernetDir))
    config = { ...config, hypernetDir: await resolveModelId(config.hypernetDir, inv.io, '--hypernet', HYPERNET_REPO_FILES) };
  const given = config.model;
  if (given !== undefined) {
    const model = isHubModel(given) ? await resolveModelId(given, inv.io) : given;
    checkT5Dir(model);
    await checkModelVocab(model);
    config = { ...config, model };
  }
  return config === inv.config ? inv : { ...inv, config };
}
