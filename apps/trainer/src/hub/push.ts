// `tagi push DIR --repo=org/name`: a peft adapter dir, a task-adapter export (`tagi generate`, the playground's
// export) or a hypernetwork dir → a Hub model repo, in one commit through @huggingface/hub, with a model card
// (model-card.ts) as README.md. The files go up unchanged, so a pull by id (`--adapter=org/name`,
// `--hypernet=org/name[@rev]`) gives the same bytes. A base model that is not on the Hub (one `tagi base` trained)
// goes along under base-model/, so a pulled hypernetwork generates without --model; a base that came from the Hub
// (a snapshot in the HF cache) is named in `base_model` instead. The token comes from HF_TOKEN or the HF token file
// and is never printed. Reads no tensors: no backend is loaded.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { HubApiError, createRepo, uploadFiles } from '@huggingface/hub';
import { RUN_STATE_FILE, readRunState, runArtifacts } from '@tagi/run-dir/node';
import { T5_MODEL_FILES, hfToken, parseHubId } from '@tagi/t5-model/node';
import { CliError } from '../common/errors.js';
import type { CliIO } from '../common/io.js';
import { type ModelCardInput, type PushKind, evaluationExcerpt, modelCard } from './model-card.js';
import { resolvePath } from '../common/paths.js';

export const PUSH_FLAGS = ['help', 'repo', 'revision', 'private', 'license', 'message', 'base-model'];

export interface PushInvocation {
  readonly command: 'push';
  readonly dir: string;
  /** `org/name`. */
  readonly repo: string;
  /** The branch to commit to (default main). */
  readonly revision: string;
  readonly private: boolean;
  readonly license: string;
  readonly message?: string;
  /** A Hub id to record as the base model instead of uploading a local one. */
  readonly baseModel?: string;
  readonly io: CliIO;
}

/** The folder of the repo a local base model goes to. */
export const BASE_MODEL_FOLDER = 'base-model';

/** `tagi push`'s arguments, checked (nothing is read from the network here). */
export function parsePush(
  positionals: readonly string[],
  flags: readonly (readonly [string, string | true])[],
  io: CliIO,
  cwd: string,
  unknownFlag: (name: string) => Error,
  help: string,
): PushInvocation {
  if (positionals.length !== 1) {
    throw new CliError(
      positionals.length === 0
        ? `'tagi push' needs the DIR to push (an adapter, a task-adapter export or a hypernetwork dir)\n\n${help}`
        : `unexpected argument '${positionals[1]}' for 'tagi push'`,
    );
  }
  const got: Record<string, string | true> = {};
  for (const [name, value] of flags) {
    if (!PUSH_FLAGS.includes(name)) throw unknownFlag(name);
    got[name] = value;
  }
  const text = (name: string): string | undefined => {
    const v = got[name];
    if (v === true) throw new CliError(`--${name} needs a value (--${name}=VALUE)`);
    return v;
  };
  const repo = text('repo');
  if (repo === undefined) throw new CliError(`'tagi push' needs --repo=ORG/NAME (the Hub model repo to push to; created if it does not exist)\n\n${help}`);
  const ref = parseHubId(repo);
  if (ref === undefined || repo.includes('@') || !repo.includes('/'))
    throw new CliError(`--repo: '${repo}' is not a Hub repo id ORG/NAME (letters, digits, '-', '_', '.'; no revision: that is --revision)`);
  const priv = got['private'];
  if (priv !== undefined && priv !== true && priv !== 'true' && priv !== 'false') throw new CliError(`--private takes no value (or true/false), got '${priv}'`);
  const baseModel = text('base-model');
  if (baseModel !== undefined && (parseHubId(baseModel) === undefined || baseModel.includes('@')))
    throw new CliError(`--base-model: '${baseModel}' is not a Hub model id ORG/NAME`);
  const revision = text('revision') ?? 'main';
  if (!/^[\w.\-/]+$/.test(revision)) throw new CliError(`--revision: '${revision}' is not a branch name`);
  const license = text('license') ?? 'apache-2.0';
  if (!/^[\w.+-]+$/.test(license)) throw new CliError(`--license: '${license}' is not a license identifier (e.g. apache-2.0, mit, other)`);
  const message = text('message');
  const dir = resolvePath(cwd, positionals[0] as string);
  pushKind(dir); // checked now: a wrong dir costs no network request
  return {
    command: 'push',
    dir,
    repo,
    revision,
    private: priv === true || priv === 'true',
    license,
    ...(message !== undefined ? { message } : {}),
    ...(baseModel !== undefined ? { baseModel } : {}),
    io,
  };
}

/** What a directory holds, by its marker file. */
export function pushKind(dir: string): PushKind {
  if (!existsSync(dir)) throw new CliError(`tagi push: '${dir}' does not exist`);
  if (!statSync(dir).isDirectory()) throw new CliError(`tagi push: '${dir}' is a file; give the directory`);
  if (existsSync(path.join(dir, 'hypernet_config.json'))) return 'hypernet';
  if (existsSync(path.join(dir, 'adapter_config.json'))) return existsSync(path.join(dir, 'tagi_adapter.json')) ? 'task-adapter' : 'adapter';
  throw new CliError(`tagi push: '${dir}' has no adapter_config.json (a peft adapter or a task-adapter export) nor hypernet_config.json (a hypernetwork dir)`);
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new CliError(`${file}: not readable JSON (${(e as Error).message})`);
  }
}

/** The files of a dir to push: regular files, no dot files or locks, sorted; sub-directories are not part of these formats. */
function dirFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/** The repo and commit when `p` is a snapshot directory of an HF cache (`…/models--org--name/snapshots/<sha>`), on any machine. */
export function hubRefOfSnapshot(p: string): { repo: string; commit: string } | undefined {
  const m = /(?:^|[/\\])models--([^/\\]+)[/\\]snapshots[/\\]([0-9a-f]{40})[/\\]?$/.exec(p);
  return m ? { repo: (m[1] as string).split('--').join('/'), commit: m[2] as string } : undefined;
}

/** The run dir a file of it sits in (trainer_state.json up to three levels above). */
function runDirOf(p: string | undefined): string | undefined {
  if (p === undefined || !path.isAbsolute(p)) return undefined;
  let d = p;
  for (let i = 0; i < 4; i++) {
    if (existsSync(path.join(d, RUN_STATE_FILE))) return d;
    const up = path.dirname(d);
    if (up === d) return undefined;
    d = up;
  }
  return undefined;
}

interface Provenance {
  readonly recordedBase?: string;
  readonly instruction?: string;
  readonly hypernet?: { name: string | null; weightsSha256?: string };
  readonly lora?: ModelCardInput['lora'];
  readonly hypernetConfig?: Record<string, unknown>;
  /** A path that lies in the run that made the files (for its base model and results). */
  readonly runHint?: string;
}

function provenance(kind: PushKind, dir: string): Provenance {
  if (kind === 'hypernet') {
    const cfg = readJson(path.join(dir, 'hypernet_config.json'));
    const hn = (cfg['hypernet'] ?? {}) as Record<string, unknown>;
    const name = (cfg['base_model'] as { name?: unknown } | undefined)?.name;
    return {
      ...(typeof name === 'string' && name !== '' ? { recordedBase: path.resolve(dir, name) } : {}),
      lora: {
        rank: Number(hn['rank']),
        alpha: Number(hn['lora_alpha']),
        targets: (hn['target_modules'] as string[] | string | undefined) ?? [],
        fusion: String(hn['fusion']),
      },
      hypernetConfig: hn,
      runHint: dir,
    };
  }
  const peft = readJson(path.join(dir, 'adapter_config.json'));
  const lora = { rank: Number(peft['r']), alpha: Number(peft['lora_alpha']), targets: (peft['target_modules'] as string[] | string | undefined) ?? [] };
  const peftBase =
    typeof peft['base_model_name_or_path'] === 'string' && peft['base_model_name_or_path'] !== '' ? (peft['base_model_name_or_path'] as string) : undefined;
  if (kind === 'adapter') return { ...(peftBase !== undefined ? { recordedBase: peftBase } : {}), lora, runHint: dir };
  const meta = readJson(path.join(dir, 'tagi_adapter.json'));
  const hn = (meta['hypernet'] ?? {}) as { name?: unknown; weights_sha256?: unknown };
  // a hypernetwork pulled from the Hub is recorded as its HF-cache snapshot: name it by id and commit
  const snapshot = typeof hn.name === 'string' ? hubRefOfSnapshot(hn.name) : undefined;
  const hnName = snapshot !== undefined ? `${snapshot.repo}@${snapshot.commit}` : typeof hn.name === 'string' ? hn.name : null;
  const baseName = (meta['base_model'] as { name?: unknown } | undefined)?.name;
  return {
    recordedBase: typeof baseName === 'string' && baseName !== '' ? baseName : peftBase,
    ...(typeof meta['instruction'] === 'string' ? { instruction: meta['instruction'] } : {}),
    hypernet: { name: hnName, ...(typeof hn.weights_sha256 === 'string' ? { weightsSha256: hn.weights_sha256 } : {}) },
    lora: { ...lora, fusion: String(meta['fusion']) },
    ...(typeof hn.name === 'string' ? { runHint: hn.name } : {}),
  };
}

/** The files of a local HF T5 dir a pull needs (config, weights single or sharded, tokenizer files). */
function baseModelFiles(dir: string): string[] {
  const has = (f: string) => existsSync(path.join(dir, f));
  const files = [...(T5_MODEL_FILES.required ?? [])].filter(has);
  const weights = (T5_MODEL_FILES.oneOf ?? []).find((g) => g.every(has));
  if (files.length !== (T5_MODEL_FILES.required ?? []).length || weights === undefined)
    throw new CliError(
      `tagi push: the base model '${dir}' is not an HF T5 dir (config.json + model.safetensors); name the Hub model it is with --base-model=ORG/NAME`,
    );
  files.push(...weights);
  for (const f of weights.filter((w) => w.endsWith('.safetensors.index.json'))) {
    const map = (readJson(path.join(dir, f))['weight_map'] ?? {}) as Record<string, string>;
    files.push(...new Set(Object.values(map)));
  }
  files.push(...(T5_MODEL_FILES.optional ?? []).filter(has));
  return files;
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

export interface PushResult {
  readonly kind: PushKind;
  readonly commit: string;
  readonly url: string;
  /** Repo paths uploaded, README.md included. */
  readonly files: readonly string[];
  readonly card: string;
}

/** Options that tests pass (the fixture Hub); users set HF_ENDPOINT and HF_TOKEN. */
export interface PushEnvironment {
  readonly endpoint?: string;
  readonly token?: string;
  readonly fetch?: typeof fetch;
}

/** Pushes `inv.dir` to `inv.repo` in one commit; prints what went where. */
export async function push(inv: PushInvocation, env: PushEnvironment = {}): Promise<PushResult> {
  const say = (m: string) => inv.io.stdout.write(`${m}\n`);
  const kind = pushKind(inv.dir);
  const token = env.token ?? hfToken();
  if (token === undefined) {
    throw new CliError(
      'tagi push needs a Hub access token with write access: set HF_TOKEN, or log in once with `huggingface-cli login` (it writes $HF_HOME/token)',
    );
  }
  const hubUrl = (env.endpoint ?? process.env['HF_ENDPOINT'] ?? 'https://huggingface.co').replace(/\/+$/, '');
  const prov = provenance(kind, inv.dir);

  // the base model: named on the Hub, or carried along
  let baseModelId = inv.baseModel;
  let baseDir: string | undefined;
  const runDir = runDirOf(prov.runHint);
  const runState = runDir !== undefined ? readRunState(runDir) : undefined;
  const recorded = prov.recordedBase ?? (runDir !== undefined && runState !== undefined ? runArtifacts(runDir, runState, 'base-model')[0]?.dir : undefined);
  if (baseModelId === undefined && recorded !== undefined) {
    const fromCache = hubRefOfSnapshot(recorded)?.repo;
    if (fromCache !== undefined) baseModelId = fromCache;
    else if (!path.isAbsolute(recorded) && parseHubId(recorded) !== undefined) baseModelId = recorded;
    else if (existsSync(path.join(recorded, 'config.json'))) baseDir = recorded;
    else
      inv.io.stderr.write(
        `tagi: warning: the base model recorded for ${inv.dir} (${recorded}) is not here; the card says it is not recorded (name it with --base-model=ORG/NAME)\n`,
      );
  }

  // what goes up: the dir's files, the base model's under base-model/, the card
  const own = dirFiles(inv.dir);
  const upload: { path: string; file: string }[] = own.filter((f) => f !== 'README.md').map((f) => ({ path: f, file: path.join(inv.dir, f) }));
  if (baseDir !== undefined) for (const f of baseModelFiles(baseDir)) upload.push({ path: `${BASE_MODEL_FOLDER}/${f}`, file: path.join(baseDir, f) });
  const resultsMd = runDir !== undefined ? path.join(runDir, 'results.md') : undefined;
  const card = own.includes('README.md')
    ? readFileSync(path.join(inv.dir, 'README.md'), 'utf8')
    : modelCard({
        kind,
        repo: inv.repo,
        license: inv.license,
        ...(baseModelId !== undefined ? { baseModelId } : {}),
        ...(baseDir !== undefined ? { baseModelFolder: BASE_MODEL_FOLDER } : {}),
        ...(prov.instruction !== undefined ? { instruction: prov.instruction } : {}),
        ...(prov.hypernet !== undefined ? { hypernet: prov.hypernet } : {}),
        ...(prov.lora !== undefined ? { lora: prov.lora } : {}),
        ...(prov.hypernetConfig !== undefined ? { hypernetConfig: prov.hypernetConfig } : {}),
        ...(resultsMd !== undefined && existsSync(resultsMd)
          ? { evaluation: { markdown: evaluationExcerpt(readFileSync(resultsMd, 'utf8')), source: resultsMd } }
          : {}),
        files: upload.map((u) => u.path),
      });
  if (own.includes('README.md')) say(`note: ${inv.dir}/README.md is pushed as the model card (no card is generated)`);
  const bytes = upload.reduce((n, u) => n + statSync(u.file).size, 0);
  say(
    `pushing ${kind} ${inv.dir} to ${hubUrl}/${inv.repo} (${upload.length + 1} files, ${mb(bytes)}${baseDir !== undefined ? `; base model ${baseDir} under ${BASE_MODEL_FOLDER}/` : baseModelId !== undefined ? `; base model ${baseModelId}` : ''})`,
  );

  const common = { hubUrl, accessToken: token, ...(env.fetch ? { fetch: env.fetch } : {}) };
  const repo = { type: 'model' as const, name: inv.repo };
  const hubError = (e: unknown, what: string): CliError => {
    if (e instanceof HubApiError) {
      const why =
        e.statusCode === 401 || e.statusCode === 403
          ? ': the token (HF_TOKEN or the HF token file) is not accepted, or has no write access to this namespace'
          : '';
      return new CliError(`tagi push: ${what} ${inv.repo} failed: the Hub answered ${e.statusCode} (${e.message})${why}`);
    }
    const cause = e instanceof Error && e.cause instanceof Error ? ` (${e.cause.message})` : '';
    return new CliError(`tagi push: ${what} ${inv.repo} failed: ${e instanceof Error ? e.message : String(e)}${cause}; is ${hubUrl} reachable?`);
  };
  try {
    await createRepo({ ...common, repo, ...(inv.private ? { visibility: 'private' as const } : {}), license: inv.license });
    say(`created ${inv.private ? 'private ' : ''}repo ${inv.repo}`);
  } catch (e) {
    if (!(e instanceof HubApiError && e.statusCode === 409)) throw hubError(e, 'creating');
  }
  const files = [...upload.map((u) => ({ path: u.path, content: new Blob([readFileSync(u.file)]) })), { path: 'README.md', content: new Blob([card]) }];
  let out;
  try {
    out = await uploadFiles({
      ...common,
      repo,
      files,
      branch: inv.revision,
      commitTitle:
        inv.message ??
        `tagi push: ${kind === 'hypernet' ? 'hypernetwork' : kind === 'task-adapter' ? 'generated adapter' : 'adapter'} ${path.basename(inv.dir)}`,
    });
  } catch (e) {
    throw hubError(e, 'uploading to');
  }
  const commit = out?.commit.oid ?? '';
  const url = `${hubUrl}/${inv.repo}`;
  const flag = kind === 'hypernet' ? '--hypernet' : '--adapter';
  say(
    `pushed ${url} (commit ${commit}); use it with ${flag}=${inv.repo}${inv.revision !== 'main' ? `@${inv.revision}` : ''} (this commit: ${flag}=${inv.repo}@${commit})`,
  );
  return { kind, commit, url, files: files.map((f) => f.path), card };
}
