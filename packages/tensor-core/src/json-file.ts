// Deterministic files without tensors: atomic writes and sorted-key JSON. The one implementation of each
// for the workspace (checkpoints here, the run dir's files in @tagi/run-dir); no tfjs import, so
// `@tagi/tensor-core/json-file` loads without a backend.
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Writes `data` to `file` via a temporary file in the same directory and a rename. */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    // a failed write (ENOSPC, EIO) carries no path of its own: name the file being written
    if (e instanceof Error && (e as NodeJS.ErrnoException).path === undefined) (e as NodeJS.ErrnoException).path = file;
    throw e;
  }
  await handle.close();
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

export interface StableJsonOptions {
  /**
   * Dot paths of objects whose own keys keep their insertion order (their values are still sorted), e.g.
   * `['stages']` for a record whose order means something.
   */
  readonly keepOrder?: readonly string[];
}

/** Deterministic JSON: keys sorted at every depth, 2 spaces, trailing newline. */
export function stableJson(value: unknown, opts: StableJsonOptions = {}): string {
  const keepOrder = new Set(opts.keepOrder ?? []);
  // `at`: the dot path of `v` from the root ('' = the root); undefined inside lists (no path names them)
  const sort = (v: unknown, at: string | undefined): unknown => {
    if (Array.isArray(v)) return v.map((x) => sort(x, undefined));
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const keys = at !== undefined && keepOrder.has(at) ? Object.keys(o) : Object.keys(o).sort();
    return Object.fromEntries(keys.map((k) => [k, sort(o[k], at === undefined ? undefined : at === '' ? k : `${at}.${k}`)]));
  };
  return `${JSON.stringify(sort(value, ''), null, 2)}\n`;
}
