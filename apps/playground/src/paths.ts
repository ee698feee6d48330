// Which directories the playground may open: only those under the roots it was started with, after
// resolving symlinks, so neither '..', an absolute path elsewhere nor a symlink pointing out escapes.
import fs from 'node:fs';
import path from 'node:path';

export class PathAccessError extends Error {
  constructor(
    readonly requested: string,
    readonly reason: string,
    /** HTTP status: 403 for a path outside the roots, 404 for one that does not exist under them. */
    readonly status: 403 | 404 = 403,
  ) {
    super(`path ${JSON.stringify(requested)}: ${reason}`);
    this.name = 'PathAccessError';
  }
}

export interface Roots {
  /** Real paths of the roots, in the order given. */
  readonly dirs: readonly string[];
}

/** Resolves each root to its real path; roots that do not exist are reported, not silently dropped. */
export function resolveRoots(dirs: readonly string[]): { roots: Roots; missing: string[] } {
  const real: string[] = [];
  const missing: string[] = [];
  for (const dir of dirs) {
    try {
      const r = fs.realpathSync(path.resolve(dir));
      if (!fs.statSync(r).isDirectory()) missing.push(dir);
      else if (!real.includes(r)) real.push(r);
    } catch {
      missing.push(dir);
    }
  }
  return { roots: { dirs: real }, missing };
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Resolves a requested directory (absolute, or relative to each root in turn) to a real path that lies
 * under one of the roots; throws PathAccessError otherwise. The check is on the real path, so a symlink
 * inside a root that points outside it is refused.
 */
export function resolveUnderRoots(roots: Roots, requested: string): string {
  if (typeof requested !== 'string' || requested.length === 0) throw new PathAccessError(String(requested), 'expected a non-empty path');
  if (requested.length > 4096 || requested.includes('\0')) throw new PathAccessError(requested.slice(0, 80), 'not a valid path');
  if (roots.dirs.length === 0) throw new PathAccessError(requested, 'the playground was started without any root directory');
  const candidates = path.isAbsolute(requested) ? [requested] : roots.dirs.map((r) => path.resolve(r, requested));
  let sawOutside = false;
  for (const candidate of candidates) {
    let real: string;
    try {
      real = fs.realpathSync(candidate);
    } catch {
      // a path that does not exist: still refuse it as outside when its lexical form leaves every root
      if (!roots.dirs.some((r) => isInside(path.resolve(candidate), r))) sawOutside = true;
      continue;
    }
    if (roots.dirs.some((r) => isInside(real, r))) return real;
    sawOutside = true;
  }
  if (sawOutside) throw new PathAccessError(requested, 'outside the playground roots (only directories under --root are served)');
  throw new PathAccessError(requested, 'no such file or directory under the playground roots', 404);
}

/** Shows a real path as the user knows it: relative to the root holding it, with the root's name. */
export function displayPath(roots: Roots, real: string): string {
  for (const r of roots.dirs) {
    if (isInside(real, r)) {
      const rel = path.relative(r, real);
      return rel === '' ? path.basename(r) : `${path.basename(r)}/${rel.split(path.sep).join('/')}`;
    }
  }
  return real;
}

/**
 * The real path of a file that is about to be read, checked to lie under a root: a file symlink inside
 * a run dir (`results.md -> /etc/passwd`) is refused like a directory symlink. Read the returned path,
 * not the given one, so the file checked is the file read. OS errors (ENOENT, EACCES, …) propagate.
 */
export function realFileUnderRoots(roots: Roots, file: string): string {
  const real = fs.realpathSync(file);
  if (!roots.dirs.some((r) => isInside(real, r))) {
    throw new PathAccessError(file, 'is a symlink to a file outside the playground roots (only files under --root are served)');
  }
  return real;
}

/**
 * Checks a checkpoint dir before a loader reads it: every entry (files the loaders open by name, such as
 * config.json or model.safetensors) must resolve under a root and be readable, and every shard named by
 * a model.safetensors.index.json too. A loader then cannot be led out of the roots by a file symlink,
 * and an unreadable file fails here with its own path (EACCES) rather than deep inside a loader.
 */
export function checkDirFilesUnderRoots(roots: Roots, dir: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) continue;
    const file = path.join(dir, e.name);
    // a dangling symlink is not read by anyone: leave it to the loader's own "missing file" error
    if (e.isSymbolicLink() && !fs.existsSync(file)) continue;
    const real = realFileUnderRoots(roots, file);
    if (fs.statSync(real).isFile()) fs.accessSync(real, fs.constants.R_OK);
  }
  const index = path.join(dir, 'model.safetensors.index.json');
  if (!fs.existsSync(index)) return;
  let shards: string[] = [];
  try {
    const json = JSON.parse(fs.readFileSync(realFileUnderRoots(roots, index), 'utf8')) as { weight_map?: Record<string, unknown> };
    shards = [...new Set(Object.values(json.weight_map ?? {}).filter((v): v is string => typeof v === 'string'))];
  } catch (e) {
    if (e instanceof SyntaxError) return; // the loader names the broken index itself
    throw e;
  }
  for (const shard of shards) {
    const file = path.resolve(dir, shard);
    if (!roots.dirs.some((r) => isInside(file, r))) throw new PathAccessError(shard, `named by ${index}: outside the playground roots`);
    if (fs.existsSync(file)) realFileUnderRoots(roots, file);
  }
}
