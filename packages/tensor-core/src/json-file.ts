// Deterministic files without tensors: atomic writes and sorted-key JSON (stable-json.ts, also in the main
// entry for browser-safe callers). The one implementation of each for the workspace (checkpoints here, the
// run dir's files in @tagi/run-dir); no tfjs import, so `@tagi/tensor-core/json-file` loads without a backend.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { type StableJsonOptions, stableJson } from './stable-json.js';

export { type StableJsonOptions, stableJson };

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
