// Hugging Face Hub ids → local directories, through the official JS client (@huggingface/hub) and the
// standard HF cache exactly as Python's huggingface_hub lays it out, so either side reuses the other's
// downloads:
//
//   $HF_HUB_CACHE (default $HF_HOME/hub, $HF_HOME default $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface)
//     models--<org>--<name>/
//       blobs/<etag>                      file contents; etag = sha256 for LFS files, the git blob id otherwise
//       refs/<revision>                   the commit sha a branch or tag pointed to when last resolved
//       snapshots/<commit sha>/<file>     relative symlink to ../../blobs/<etag>
//       .no_exist/<commit sha>/<file>     empty: the file is known to be absent at that commit
//
// The client does every HTTP request (model info for the commit, paths-info for etags and sizes, the file
// download); this module only decides which files a repo must provide and writes the cache. Node-only.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HubApiError, downloadFile, modelInfo, pathsInfo, type PathInfo } from '@huggingface/hub';

// ---------------------------------------------------------------------------------------------
// errors

export type HubErrorCode = 'invalid-id' | 'repo-not-found' | 'gated' | 'revision-not-found' | 'file-not-found' | 'offline-cache-miss' | 'hub-error';

/** A Hub id could not be turned into a local directory; `code` says why, the fields say what was asked. */
export class HubError extends Error {
  constructor(
    readonly code: HubErrorCode,
    message: string,
    readonly repo: string,
    readonly revision: string,
    /** The file that was missing, when one was. */
    readonly file?: string,
    /** HTTP status of the Hub's answer, when there was one. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HubError';
  }
}
/** No such repo on the Hub (or it is private and no token grants access). */
export class RepoNotFoundError extends HubError {
  override readonly name = 'RepoNotFoundError';
}
/** The repo is gated: accept its conditions on the Hub and pass a token (HF_TOKEN). */
export class GatedRepoError extends HubError {
  override readonly name = 'GatedRepoError';
}
/** HF_HUB_OFFLINE is set and the cache lacks the revision or a file. */
export class OfflineCacheMissError extends HubError {
  override readonly name = 'OfflineCacheMissError';
}

// ---------------------------------------------------------------------------------------------
// what a repo must provide

/** The files to take from a repo; the directory returned holds all of them. */
export interface RepoFiles {
  /** Every one must exist. */
  readonly required?: readonly string[];
  /** Alternatives: the first group whose files all exist is taken (e.g. one file, or a sharded index). */
  readonly oneOf?: readonly (readonly string[])[];
  /** Taken when the repo has them. */
  readonly optional?: readonly string[];
  /** Files that do not load but are worth naming when a required one is missing (e.g. pytorch_model.bin). */
  readonly hints?: readonly string[];
}

/** An HF T5 directory: config, safetensors weights (single or sharded), generation config and tokenizer files. */
export const T5_MODEL_FILES: RepoFiles = {
  required: ['config.json'],
  oneOf: [['model.safetensors'], ['model.safetensors.index.json']],
  optional: ['generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'spiece.model', 'pruned_vocab.json'],
  hints: ['pytorch_model.bin', 'pytorch_model.bin.index.json', 'tf_model.h5', 'flax_model.msgpack'],
};

/** A peft adapter directory. */
export const PEFT_ADAPTER_FILES: RepoFiles = {
  required: ['adapter_config.json', 'adapter_model.safetensors'],
  hints: ['adapter_model.bin'],
};

// ---------------------------------------------------------------------------------------------
// settings from the environment, as huggingface_hub reads them

/** `~` and `~/…` → the home directory (Python's os.path.expanduser for the current user). */
export function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/') || p.startsWith(`~${path.sep}`)) return path.join(os.homedir(), p.slice(2));
  return p;
}

const TRUE = new Set(['1', 'ON', 'YES', 'TRUE']);
function envFlag(name: string): boolean {
  return TRUE.has((process.env[name] ?? '').trim().toUpperCase());
}

/** $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface. */
export function hfHome(): string {
  const home = process.env['HF_HOME'];
  if (home) return expandHome(home);
  return path.join(expandHome(process.env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache')), 'huggingface');
}

/** $HF_HUB_CACHE (or the older $HUGGINGFACE_HUB_CACHE), else $HF_HOME/hub. */
export function hfHubCache(): string {
  const dir = process.env['HF_HUB_CACHE'] ?? process.env['HUGGINGFACE_HUB_CACHE'];
  return dir ? expandHome(dir) : path.join(hfHome(), 'hub');
}

/** $HF_TOKEN, else the token file `huggingface-cli login` writes ($HF_TOKEN_PATH or $HF_HOME/token). */
export function hfToken(): string | undefined {
  const env = process.env['HF_TOKEN']?.trim();
  if (env) return env;
  const file = expandHome(process.env['HF_TOKEN_PATH'] ?? path.join(hfHome(), 'token'));
  try {
    const t = fs.readFileSync(file, 'utf8').trim();
    return t || undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// ids

// huggingface_hub's validate_repo_id: [org/]name of word characters, '-' and '.', no '--' or '..', ≤ 96 chars
const REPO_ID = /^(?:[\w\-.]+\/)?[\w\-.]+$/;

export interface HubRef {
  /** `org/name` (or `name`). */
  repo: string;
  /** Branch, tag or commit sha; `main` unless given. */
  revision: string;
}

/** Parse `org/name[@revision]`; undefined when the string is not a Hub id. */
export function parseHubId(id: string): HubRef | undefined {
  const at = id.indexOf('@');
  const repo = at < 0 ? id : id.slice(0, at);
  const revision = at < 0 ? 'main' : id.slice(at + 1);
  if (!REPO_ID.test(repo) || repo.length > 96 || repo.includes('--') || repo.includes('..') || /^[-.]|[-.]$/.test(repo)) return undefined;
  if (at >= 0 && revision.length === 0) return undefined;
  return { repo, revision };
}

/** The cache folder of a model repo: `models--org--name`. */
export function repoFolderName(repo: string): string {
  return ['models', ...repo.split('/')].join('--');
}

// ---------------------------------------------------------------------------------------------
// resolving

export interface DownloadProgress {
  /** Repo-relative file name. */
  file: string;
  /** Bytes written so far and the file's size. */
  loaded: number;
  total: number;
}

export interface ResolveOptions {
  /** What the directory must hold (default: an HF T5 model). */
  files?: RepoFiles;
  /** Branch, tag or commit sha (default `main`; an `@revision` in the id takes precedence). */
  revision?: string;
  /** Cache directory (default {@link hfHubCache}). */
  cacheDir?: string;
  /** Use only the cache (default: HF_HUB_OFFLINE). */
  offline?: boolean;
  /** Hub URL (default: HF_ENDPOINT, else https://huggingface.co). */
  endpoint?: string;
  /** Access token (default {@link hfToken}: HF_TOKEN or the login token file). */
  token?: string;
  /** Called as a file downloads (several times per file; once with loaded = total at its end). */
  onProgress?: (p: DownloadProgress) => void;
  /** Passed to the Hub client (tests, proxies). */
  fetch?: typeof fetch;
}

const COMMIT = /^[0-9a-f]{40}$/;

function exists(p: string): boolean {
  try {
    fs.statSync(p); // follows the snapshot symlink: a dangling one is a miss
    return true;
  } catch {
    return false;
  }
}

/** Files of the safetensors shards an index names (weight_map values), repo-relative. */
function shardsOf(indexFile: string, repoPath: string, repo: string, revision: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
  } catch (e) {
    throw new HubError('hub-error', `${repo}@${revision}: ${repoPath} is not valid JSON (${(e as Error).message})`, repo, revision, repoPath);
  }
  const map = (json as { weight_map?: Record<string, unknown> }).weight_map;
  if (!map || typeof map !== 'object') throw new HubError('hub-error', `${repo}@${revision}: ${repoPath} has no object "weight_map"`, repo, revision, repoPath);
  const dir = path.posix.dirname(repoPath);
  return [...new Set(Object.values(map).map(String))].map((f) => (dir === '.' ? f : `${dir}/${f}`));
}

/**
 * Which of `spec`'s files to take, given the set of files the repo (or the cache) has. Returns the chosen list
 * or the first missing requirement.
 */
function choose(spec: RepoFiles, has: (f: string) => boolean): { files: string[] } | { missing: string } {
  const files: string[] = [];
  for (const f of spec.required ?? []) {
    if (!has(f)) return { missing: f };
    files.push(f);
  }
  if (spec.oneOf?.length) {
    const group = spec.oneOf.find((g) => g.every(has));
    if (!group) return { missing: spec.oneOf.map((g) => g.join(' + ')).join(' or ') };
    files.push(...group);
  }
  for (const f of spec.optional ?? []) if (has(f)) files.push(f);
  return { files };
}

function candidates(spec: RepoFiles): string[] {
  return [...new Set([...(spec.required ?? []), ...(spec.oneOf ?? []).flat(), ...(spec.optional ?? [])])];
}

class Cache {
  readonly folder: string;
  constructor(
    readonly dir: string,
    readonly repo: string,
  ) {
    this.folder = path.join(dir, repoFolderName(repo));
  }
  refFile(revision: string): string {
    return path.join(this.folder, 'refs', ...revision.split('/'));
  }
  /** The commit a revision names in the cache: itself if a sha with a snapshot, else refs/<revision>. */
  commitOf(revision: string): string | undefined {
    if (COMMIT.test(revision) && fs.existsSync(this.snapshot(revision))) return revision;
    try {
      const sha = fs.readFileSync(this.refFile(revision), 'utf8').trim();
      return COMMIT.test(sha) ? sha : undefined;
    } catch {
      return undefined;
    }
  }
  /** huggingface_hub's marker of a file known to be absent at a commit (saves asking again). */
  noExist(commit: string, file: string): string {
    return path.join(this.folder, '.no_exist', commit, ...file.split('/'));
  }
  markMissing(commit: string, file: string): void {
    const f = this.noExist(commit, file);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, '');
  }
  snapshot(commit: string): string {
    return path.join(this.folder, 'snapshots', commit);
  }
  pointer(commit: string, file: string): string {
    return path.join(this.snapshot(commit), ...file.split('/'));
  }
  blob(etag: string): string {
    return path.join(this.folder, 'blobs', etag);
  }
  writeRef(revision: string, commit: string): void {
    if (revision === commit) return;
    const f = this.refFile(revision);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, commit); // huggingface_hub writes the bare sha, no newline
  }
  /** snapshots/<commit>/<file> → relative symlink to the blob (a copy where symlinks are not allowed). */
  link(commit: string, file: string, etag: string): void {
    const ptr = this.pointer(commit, file);
    fs.mkdirSync(path.dirname(ptr), { recursive: true });
    fs.rmSync(ptr, { force: true });
    try {
      fs.symlinkSync(path.relative(path.dirname(ptr), this.blob(etag)), ptr);
    } catch {
      fs.copyFileSync(this.blob(etag), ptr);
    }
  }
}

/** The error a failed Hub request stands for, named by the Hub's X-Error-Code when it sent one. */
function hubFailure(e: unknown, repo: string, revision: string, errorCodes: Map<string, string>, file?: string): HubError {
  if (e instanceof HubError) return e;
  if (e instanceof HubApiError) {
    const code = errorCodes.get(e.url) ?? '';
    const at = `${repo}@${revision}`;
    // the Hub's own message without the URLs it quotes (a query string can say 'gated')
    const said = String((e.data as { error?: unknown } | undefined)?.error ?? '').replace(/\S+:\/\/\S+/g, '');
    const gated = code ? code === 'GatedRepo' : (e.statusCode === 401 || e.statusCode === 403) && /gated|is restricted|accept the conditions/i.test(said);
    if (gated) {
      return new GatedRepoError(
        'gated',
        `${repo} is a gated repo: accept its conditions on the Hub, then pass a token with access (HF_TOKEN or huggingface-cli login). The Hub said: ${e.message}`,
        repo,
        revision,
        file,
        e.statusCode,
      );
    }
    if (code === 'RevisionNotFound')
      return new HubError('revision-not-found', `${at}: no revision '${revision}' in ${repo}`, repo, revision, file, e.statusCode);
    if (code === 'EntryNotFound') return new HubError('file-not-found', `${at}: no file ${file ?? ''} in the repo`, repo, revision, file, e.statusCode);
    if (code === 'RepoNotFound' || e.statusCode === 404 || e.statusCode === 401) {
      return new RepoNotFoundError(
        'repo-not-found',
        `${repo}: no such repo on the Hub (or it is private and the token, if any, has no access)`,
        repo,
        revision,
        file,
        e.statusCode,
      );
    }
    return new HubError('hub-error', `${at}: the Hub answered ${e.statusCode}: ${e.message}`, repo, revision, file, e.statusCode);
  }
  const msg = e instanceof Error ? e.message : String(e);
  const cause = e instanceof Error && e.cause instanceof Error ? ` (${e.cause.message})` : '';
  const hint = e instanceof TypeError ? ': the Hub could not be reached; HF_HUB_OFFLINE=1 resolves from the HF cache alone' : '';
  return new HubError('hub-error', `${repo}@${revision}: ${msg}${cause}${hint}`, repo, revision, file);
}

/**
 * A local directory for `idOrDir`: an existing directory as is (`~` expanded), else a Hub id
 * `org/name[@revision]` resolved through the HF cache — offline from the cache alone, online through
 * @huggingface/hub, downloading only the files `opts.files` asks for (default: a T5 model). Returns the
 * snapshot directory `…/models--org--name/snapshots/<commit>`.
 */
export async function resolvePretrained(idOrDir: string, opts: ResolveOptions = {}): Promise<string> {
  const local = expandHome(idOrDir);
  if (fs.existsSync(local) && fs.statSync(local).isDirectory()) return local;
  const ref = parseHubId(idOrDir);
  if (!ref) {
    throw new HubError('invalid-id', `${idOrDir}: neither an existing directory nor a Hub id 'org/name[@revision]'`, idOrDir, opts.revision ?? 'main');
  }
  const revision = idOrDir.includes('@') ? ref.revision : (opts.revision ?? 'main');
  const spec = opts.files ?? T5_MODEL_FILES;
  const cache = new Cache(expandHome(opts.cacheDir ?? hfHubCache()), ref.repo);
  const offline = opts.offline ?? envFlag('HF_HUB_OFFLINE');
  return offline ? resolveOffline(ref.repo, revision, spec, cache) : resolveOnline(ref.repo, revision, spec, cache, opts);
}

function resolveOffline(repo: string, revision: string, spec: RepoFiles, cache: Cache): string {
  const commit = cache.commitOf(revision);
  const where = `the HF cache (${cache.dir})`;
  if (!commit) {
    throw new OfflineCacheMissError(
      'offline-cache-miss',
      `${repo}@${revision}: HF_HUB_OFFLINE is set and ${where} has no snapshot for this revision (looked for ${cache.refFile(revision)})`,
      repo,
      revision,
    );
  }
  const has = (f: string) => exists(cache.pointer(commit, f));
  const chosen = choose(spec, has);
  if ('missing' in chosen) {
    throw new OfflineCacheMissError(
      'offline-cache-miss',
      `${repo}@${revision}: HF_HUB_OFFLINE is set and ${where} lacks ${chosen.missing} in snapshot ${commit}`,
      repo,
      revision,
      chosen.missing,
    );
  }
  for (const f of chosen.files.filter((x) => x.endsWith('.safetensors.index.json'))) {
    for (const shard of shardsOf(cache.pointer(commit, f), f, repo, revision)) {
      if (!has(shard))
        throw new OfflineCacheMissError(
          'offline-cache-miss',
          `${repo}@${revision}: HF_HUB_OFFLINE is set and ${where} lacks shard ${shard} in snapshot ${commit}`,
          repo,
          revision,
          shard,
        );
    }
  }
  return cache.snapshot(commit);
}

async function resolveOnline(repo: string, revision: string, spec: RepoFiles, cache: Cache, opts: ResolveOptions): Promise<string> {
  const hubUrl = (opts.endpoint ?? process.env['HF_ENDPOINT'] ?? 'https://huggingface.co').replace(/\/+$/, '');
  const accessToken = opts.token ?? hfToken();
  if (accessToken !== undefined && !accessToken.startsWith('hf_')) {
    throw new HubError(
      'hub-error',
      `${repo}: the access token (${opts.token !== undefined ? 'token option' : 'HF_TOKEN or the login token file'}) must start with 'hf_'`,
      repo,
      revision,
    );
  }
  // the client's errors keep the status and URL but not the Hub's X-Error-Code, which tells a gated repo from a
  // missing one: the fetch passed to the client records it per URL
  const errorCodes = new Map<string, string>();
  const baseFetch = opts.fetch ?? fetch;
  const recordingFetch: typeof fetch = async (input, init) => {
    // a connection the server closed while idle fails the request before it is sent: retried, as
    // huggingface_hub retries connection errors (every request here is idempotent)
    let res: Response | undefined;
    for (let attempt = 0; res === undefined; attempt++) {
      try {
        res = await baseFetch(input, init);
      } catch (e) {
        if (attempt >= 2 || !(e instanceof TypeError)) throw e;
        await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
      }
    }
    const code = res.headers.get('X-Error-Code');
    if (!res.ok && code) errorCodes.set(res.url || String(input instanceof Request ? input.url : input), code);
    return res;
  };
  const common = { repo: { type: 'model' as const, name: repo }, hubUrl, fetch: recordingFetch, ...(accessToken ? { accessToken } : {}) };

  let commit: string;
  try {
    const info = await modelInfo({ name: repo, hubUrl, fetch: recordingFetch, revision, additionalFields: ['sha'], ...(accessToken ? { accessToken } : {}) });
    const sha = (info as { sha?: unknown }).sha;
    if (typeof sha !== 'string' || !COMMIT.test(sha))
      throw new HubError('hub-error', `${repo}@${revision}: the Hub's model info has no commit sha`, repo, revision);
    commit = sha;
  } catch (e) {
    throw hubFailure(e, repo, revision, errorCodes);
  }
  cache.writeRef(revision, commit);

  // what the repo has: the cache answers for files already in this snapshot, paths-info for the rest
  const infos = new Map<string, PathInfo>();
  const lookUp = async (files: string[]) => {
    const unknown = files.filter((f) => !infos.has(f) && !exists(cache.pointer(commit, f)) && !fs.existsSync(cache.noExist(commit, f)));
    if (unknown.length === 0) return;
    try {
      for (const p of await pathsInfo({ ...common, paths: unknown, revision: commit, expand: true })) if (p.type === 'file') infos.set(p.path, p);
    } catch (e) {
      throw hubFailure(e, repo, revision, errorCodes);
    }
    for (const f of unknown) if (!infos.has(f)) cache.markMissing(commit, f);
  };
  const has = (f: string) => infos.has(f) || exists(cache.pointer(commit, f));
  await lookUp(candidates(spec));
  const chosen = choose(spec, has);
  if ('missing' in chosen) {
    await lookUp([...(spec.hints ?? [])]); // only now: what the repo has instead, for the message
    const present = (spec.hints ?? []).filter(has);
    throw new HubError(
      'file-not-found',
      `${repo}@${revision} has no ${chosen.missing}${present.length ? ` (it has ${present.join(', ')}, which this loader does not read: convert the weights to safetensors, or pick a revision that has them, e.g. the Hub's safetensors conversion PR 'refs/pr/N')` : ''}`,
      repo,
      revision,
      chosen.missing,
    );
  }
  for (const f of chosen.files) await fetchFile(f, commit, repo, revision, cache, infos, common, opts, errorCodes);
  for (const f of chosen.files.filter((x) => x.endsWith('.safetensors.index.json'))) {
    const shards = shardsOf(cache.pointer(commit, f), f, repo, revision);
    await lookUp(shards);
    for (const s of shards) {
      if (!has(s)) throw new HubError('file-not-found', `${repo}@${revision}: ${f} names shard ${s}, which the repo does not have`, repo, revision, s);
      await fetchFile(s, commit, repo, revision, cache, infos, common, opts, errorCodes);
    }
  }
  return cache.snapshot(commit);
}

/** Puts one file into the cache (blob + snapshot link) unless its snapshot pointer is already there. */
async function fetchFile(
  file: string,
  commit: string,
  repo: string,
  revision: string,
  cache: Cache,
  infos: Map<string, PathInfo>,
  common: { repo: { type: 'model'; name: string }; hubUrl: string; fetch: typeof fetch; accessToken?: string },
  opts: ResolveOptions,
  errorCodes: Map<string, string>,
): Promise<void> {
  if (exists(cache.pointer(commit, file))) return;
  const info = infos.get(file);
  if (!info) throw new HubError('file-not-found', `${repo}@${revision}: no file ${file}`, repo, revision, file);
  // huggingface_hub names a blob by the file's etag: the LFS sha256, else the git blob id
  const etag = info.lfs?.oid ?? info.oid ?? '';
  const size = info.lfs?.size ?? info.size;
  if (!/^[0-9a-f]{40,64}$/.test(etag)) throw new HubError('hub-error', `${repo}@${revision}: unexpected etag '${etag}' for ${file}`, repo, revision, file);
  const blob = cache.blob(etag);
  if (!exists(blob)) {
    fs.mkdirSync(path.dirname(blob), { recursive: true });
    const incomplete = `${blob}.incomplete`;
    let body: Blob | null;
    try {
      body = await downloadFile({ ...common, path: file, revision: commit });
    } catch (e) {
      throw hubFailure(e, repo, revision, errorCodes, file);
    }
    if (!body) throw new HubError('file-not-found', `${repo}@${revision}: no file ${file}`, repo, revision, file);
    const out = fs.createWriteStream(incomplete);
    const hash = info.lfs ? createHash('sha256') : undefined;
    let loaded = 0;
    try {
      const reader = body.stream().getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        hash?.update(value);
        loaded += value.byteLength;
        if (!out.write(value)) await new Promise<void>((r) => out.once('drain', () => r()));
        opts.onProgress?.({ file, loaded, total: size });
      }
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    } catch (e) {
      out.destroy();
      fs.rmSync(incomplete, { force: true });
      throw hubFailure(e, repo, revision, errorCodes, file);
    }
    if (loaded !== size || (hash && hash.digest('hex') !== etag)) {
      fs.rmSync(incomplete, { force: true });
      throw new HubError(
        'hub-error',
        `${repo}@${revision}: ${file} arrived with ${loaded} bytes${hash ? ' or a different sha256' : ''}, expected ${size} bytes${hash ? ` and sha256 ${etag}` : ''}`,
        repo,
        revision,
        file,
      );
    }
    fs.renameSync(incomplete, blob);
    if (loaded === 0) opts.onProgress?.({ file, loaded, total: size });
  }
  cache.link(commit, file, etag);
}
