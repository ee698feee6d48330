// The one checkpoint format (Node). A store is a directory of step checkpoints:
//   <dir>/step-000120/state.safetensors   parameters (`param.*`), optimiser slots (`optim.*`), extra state (`extra.*`)
//   <dir>/step-000120/checkpoint.json     {format, version, step, totalSteps, sha256 of state.safetensors, meta}
// A checkpoint is built under a temporary name and renamed into place, so a crash leaves either the whole
// checkpoint or none. The newest `keep` checkpoints are kept (default 2): when the newest is damaged
// (truncated, edited, half-copied) `load` falls back to the previous good one and says so.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Checkpoint, CheckpointStore } from './fit.js';
import { SafetensorsError, parseSafetensors, serializeSafetensors } from './safetensors.js';
import { writeFileAtomic } from './json-file.js';
import { stableJson } from './stable-json.js';

export const CHECKPOINT_FORMAT = 'tagi-checkpoint';
export const CHECKPOINT_VERSION = 1;
const STATE_FILE = 'state.safetensors';
const META_FILE = 'checkpoint.json';
const STEP_DIR = /^step-(\d{6,})$/;

/** A checkpoint that cannot be used; `file` names what is wrong, `advice` a command that gets the user going. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly file: string,
    readonly fault: string,
    readonly advice?: string,
  ) {
    super(`${file}: ${fault}${advice ? ` (${advice})` : ''}`);
  }
}

interface CheckpointMetaFile {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  step: number;
  totalSteps: number;
  sha256: string;
  meta: Record<string, unknown>;
}

export interface DirCheckpointStoreOptions {
  /** Checkpoints kept, newest first (>= 1; default 2 so a damaged newest one has a fallback). */
  readonly keep?: number;
  /** Told when a damaged checkpoint is skipped in favour of an older one. */
  readonly onWarning?: (message: string) => void;
  /**
   * The command that continues the run once the store is emptied, for the advice given when no checkpoint
   * is usable (default: only the removal).
   */
  readonly resumeCommand?: string;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Step checkpoints in one directory (one per training stage). */
export class DirCheckpointStore implements CheckpointStore {
  private readonly keep: number;

  constructor(
    readonly dir: string,
    private readonly opts: DirCheckpointStoreOptions = {},
  ) {
    this.keep = opts.keep ?? 2;
    if (!Number.isInteger(this.keep) || this.keep < 1) throw new RangeError(`DirCheckpointStore: keep must be an integer >= 1, got ${opts.keep}`);
  }

  /** Step directories present, newest first. */
  async list(): Promise<{ step: number; dir: string }[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names
      .map((n) => ({ n, m: STEP_DIR.exec(n) }))
      .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null)
      .map((x) => ({ step: Number(x.m[1]), dir: path.join(this.dir, x.n) }))
      .sort((a, b) => b.step - a.step);
  }

  async save(c: Checkpoint): Promise<void> {
    const name = `step-${String(c.step).padStart(6, '0')}`;
    const final = path.join(this.dir, name);
    const tmp = path.join(this.dir, `.${name}.tmp-${process.pid}`);
    await fs.mkdir(this.dir, { recursive: true });
    await fs.rm(tmp, { recursive: true, force: true });
    await fs.mkdir(tmp);
    const bytes = serializeSafetensors(c.tensors, { format: CHECKPOINT_FORMAT, step: String(c.step) });
    const meta: CheckpointMetaFile = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      step: c.step,
      totalSteps: c.totalSteps,
      sha256: sha256(bytes),
      meta: c.meta,
    };
    await writeFileAtomic(path.join(tmp, STATE_FILE), bytes);
    await writeFileAtomic(path.join(tmp, META_FILE), stableJson(meta));
    await fs.rm(final, { recursive: true, force: true });
    await fs.rename(tmp, final);
    for (const old of (await this.list()).slice(this.keep)) await fs.rm(old.dir, { recursive: true, force: true });
  }

  /** Removes the checkpoint of `step` if present (the training loop drops one whose weights diverge). */
  async remove(step: number): Promise<void> {
    await fs.rm(path.join(this.dir, `step-${String(step).padStart(6, '0')}`), { recursive: true, force: true });
  }

  /** Reads and verifies one step directory; throws CheckpointError naming the faulty file. */
  async read(dir: string): Promise<Checkpoint> {
    const metaFile = path.join(dir, META_FILE);
    const stateFile = path.join(dir, STATE_FILE);
    let text: string;
    try {
      text = await fs.readFile(metaFile, 'utf8');
    } catch {
      throw new CheckpointError(metaFile, 'missing');
    }
    let m: CheckpointMetaFile;
    try {
      m = JSON.parse(text) as CheckpointMetaFile;
    } catch (e) {
      throw new CheckpointError(metaFile, `not valid JSON (${(e as Error).message})`);
    }
    if (
      m === null ||
      typeof m !== 'object' ||
      m.format !== CHECKPOINT_FORMAT ||
      !Number.isInteger(m.step) ||
      !Number.isInteger(m.totalSteps) ||
      typeof m.sha256 !== 'string'
    ) {
      throw new CheckpointError(metaFile, `expected {format: '${CHECKPOINT_FORMAT}', version, step, totalSteps, sha256, meta}`);
    }
    if (m.version > CHECKPOINT_VERSION)
      throw new CheckpointError(metaFile, `format version ${m.version} is newer than this library reads (${CHECKPOINT_VERSION})`);
    let bytes: Uint8Array;
    try {
      bytes = await fs.readFile(stateFile);
    } catch {
      throw new CheckpointError(stateFile, 'missing');
    }
    const digest = sha256(bytes);
    if (digest !== m.sha256)
      throw new CheckpointError(stateFile, `sha256 mismatch (file ${digest.slice(0, 12)}…, recorded ${m.sha256.slice(0, 12)}…): truncated or corrupt`);
    try {
      return { step: m.step, totalSteps: m.totalSteps, tensors: parseSafetensors(bytes, stateFile).tensors, meta: m.meta ?? {} };
    } catch (e) {
      if (e instanceof SafetensorsError) throw new CheckpointError(stateFile, e.message);
      throw e;
    }
  }

  /**
   * The newest checkpoint that verifies, or undefined when there is none. Damaged newer ones are skipped with
   * a warning; when every checkpoint present is damaged, a CheckpointError says how to start the stage afresh.
   */
  async load(): Promise<Checkpoint | undefined> {
    const all = await this.list();
    const faults: CheckpointError[] = [];
    for (const { dir } of all) {
      try {
        const c = await this.read(dir);
        if (faults.length > 0) this.opts.onWarning?.(`${faults.map((f) => f.message).join('; ')}; resuming from the previous checkpoint ${dir}`);
        return c;
      } catch (e) {
        if (!(e instanceof CheckpointError)) throw e;
        faults.push(e);
      }
    }
    if (faults.length > 0) {
      const first = faults[0] as CheckpointError;
      const then = this.opts.resumeCommand ? ` && ${this.opts.resumeCommand}` : '';
      throw new CheckpointError(
        first.file,
        `${first.fault}; no usable checkpoint in ${this.dir}`,
        `to restart this stage from its beginning: rm -rf '${this.dir}'${then}`,
      );
    }
    return undefined;
  }

  /** Removes every checkpoint (e.g. once the stage's outputs are written). */
  async clear(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}
