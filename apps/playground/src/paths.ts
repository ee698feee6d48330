// Which directories the playground may open: only those under the roots it was started with, after
// resolving symlinks, so neither '..', an absolute path elsewhere nor a symlink pointing out escapes.
import fs from 'node:fs';
import path from 'node:path';

export class PathAccessError extends Error {
  constructor(
    readonly requested: string,
    readonly reason: string,
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
  throw new PathAccessError(requested, 'no such file or directory under the playground roots');
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
