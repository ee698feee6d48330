// Reading what `tagi demo` (or any run) left in a run dir, without assuming more than the file formats
// of ARCHITECTURE.md: metrics.jsonl, results.json/results.md, config.json, and checkpoint dirs (HF T5
// dirs, peft adapter dirs, hypernet dirs) found by their marker files.
import fs from 'node:fs';
import path from 'node:path';
import { aboutFile } from './os-errors';
import { realFileUnderRoots } from './paths';

export class RunDirError extends Error {
  constructor(
    readonly dir: string,
    readonly fault: string,
  ) {
    super(`${dir}: ${fault}`);
    this.name = 'RunDirError';
  }
}

export type CheckpointKind = 't5' | 'peft' | 'hypernet';

export interface CheckpointInfo {
  readonly kind: CheckpointKind;
  /** Real path of the checkpoint dir. */
  readonly dir: string;
  /** Path relative to the run dir ('' when the run dir itself is the checkpoint). */
  readonly rel: string;
}

export interface MetricsRecord {
  readonly line: number;
  readonly values: Record<string, number>;
  readonly labels: Record<string, string>;
}

export interface RunSummary {
  readonly dir: string;
  readonly name: string;
  readonly mtimeMs: number;
}

const RUN_MARKERS = ['metrics.jsonl', 'results.json', 'results.md'];

function exists(p: string): boolean {
  try {
    fs.accessSync(p);
    return true;
  } catch {
    return false;
  }
}

/** What kind of checkpoint a dir is, from its marker files; undefined when none. */
export function checkpointKind(dir: string): CheckpointKind | undefined {
  if (exists(path.join(dir, 'hypernet_config.json'))) return 'hypernet';
  if (exists(path.join(dir, 'adapter_config.json'))) return 'peft';
  if (exists(path.join(dir, 'config.json')) && (exists(path.join(dir, 'model.safetensors')) || exists(path.join(dir, 'model.safetensors.index.json')))) return 't5';
  return undefined;
}

export function isRunDir(dir: string): boolean {
  return RUN_MARKERS.some((m) => exists(path.join(dir, m)));
}

/** Run dirs at most `depth` levels under each root (the root itself included), newest first. */
export function listRunDirs(roots: readonly string[], depth = 3): RunSummary[] {
  const found = new Map<string, RunSummary>();
  const visit = (dir: string, left: number): void => {
    if (isRunDir(dir)) {
      const real = fs.realpathSync(dir);
      // lstat: a marker symlinked out of the roots must not reveal anything of its target, not even a time
      const mtimeMs = Math.max(...RUN_MARKERS.map((m) => path.join(dir, m)).filter(exists).map((p) => fs.lstatSync(p).mtimeMs));
      found.set(real, { dir: real, name: path.basename(real), mtimeMs });
    }
    if (left === 0) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      // symlinked dirs are not followed while scanning; opening one explicitly goes through the root check
      if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') visit(path.join(dir, e.name), left - 1);
    }
  };
  for (const r of roots) visit(r, depth);
  return [...found.values()].sort((a, b) => b.mtimeMs - a.mtimeMs || a.dir.localeCompare(b.dir));
}

/** Checkpoint dirs inside a run dir (the run dir itself included), at most `depth` levels down. */
export function findCheckpoints(runDir: string, depth = 4): CheckpointInfo[] {
  const out: CheckpointInfo[] = [];
  const visit = (dir: string, left: number): void => {
    const kind = checkpointKind(dir);
    if (kind) out.push({ kind, dir, rel: path.relative(runDir, dir).split(path.sep).join('/') });
    if (left === 0) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory() && !e.name.startsWith('.')) visit(path.join(dir, e.name), left - 1);
    }
  };
  visit(runDir, depth);
  return out;
}

/**
 * Parses metrics.jsonl: one JSON object per line; numeric fields (also one nested level, such as the
 * trainer's `losses`) become curve values, string fields labels (e.g. the stage). Blank lines are skipped; a malformed line is an error naming its number.
 */
export function parseMetricsJsonl(text: string, file = 'metrics.jsonl'): MetricsRecord[] {
  const records: MetricsRecord[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      // the last line may be half-written by a run still in progress
      if (i === lines.length - 1 || (i === lines.length - 2 && lines[lines.length - 1] === '')) return;
      throw new RunDirError(file, `line ${i + 1}: not JSON (${(e as Error).message})`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new RunDirError(file, `line ${i + 1}: expected a JSON object`);
    const values: Record<string, number> = {};
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      if (typeof v === 'number' && Number.isFinite(v)) values[k] = v;
      else if (typeof v === 'string') labels[k] = v;
      else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        // one nested level, as the trainer writes {"losses": {"loss": …, "ce": …}}: keep the inner names
        for (const [ik, iv] of Object.entries(v as Record<string, unknown>)) {
          if (typeof iv === 'number' && Number.isFinite(iv)) values[ik in values || ik in (obj as object) ? `${k}.${ik}` : ik] = iv;
        }
      }
    }
    records.push({ line: i + 1, values, labels });
  });
  return records;
}

const MAX_FILE_BYTES = 32 * 1024 * 1024;

/** Maps a file about to be read to the real path to read, or throws (a symlink leaving the roots). */
export type FileResolver = (file: string) => string;

function readTextIfPresent(file: string, resolve: FileResolver): string | undefined {
  try {
    fs.statSync(file);
  } catch (e) {
    // absent (or a dangling symlink): nothing to read; any other fault (EACCES, …) is the caller's to report
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const real = resolve(file);
  const size = fs.statSync(real).size;
  if (size > MAX_FILE_BYTES) throw new RunDirError(file, `${size} bytes, more than the ${MAX_FILE_BYTES} the playground reads`);
  return aboutFile(file, () => fs.readFileSync(real, 'utf8'));
}

function readJsonIfPresent(file: string, resolve: FileResolver): unknown {
  const text = readTextIfPresent(file, resolve);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RunDirError(file, `not valid JSON (${(e as Error).message})`);
  }
}

export interface RunDetails {
  readonly dir: string;
  readonly name: string;
  readonly config: unknown;
  readonly metrics: MetricsRecord[];
  readonly results: unknown;
  readonly resultsMarkdown: string | undefined;
  readonly checkpoints: CheckpointInfo[];
}

/**
 * Reads a run dir's files. Each file goes through `resolve` first; by default a file must resolve inside
 * the run dir itself, so a symlink such as `results.md -> /etc/passwd` is refused, never read.
 */
export function readRunDir(dir: string, resolve?: FileResolver): RunDetails {
  if (!fs.statSync(dir).isDirectory()) throw new RunDirError(dir, 'not a directory');
  const confine = resolve ?? ((file: string) => realFileUnderRoots({ dirs: [fs.realpathSync(dir)] }, file));
  const metricsText = readTextIfPresent(path.join(dir, 'metrics.jsonl'), confine);
  return {
    dir,
    name: path.basename(dir),
    config: readJsonIfPresent(path.join(dir, 'config.json'), confine),
    metrics: metricsText === undefined ? [] : parseMetricsJsonl(metricsText, path.join(dir, 'metrics.jsonl')),
    results: readJsonIfPresent(path.join(dir, 'results.json'), confine),
    resultsMarkdown: readTextIfPresent(path.join(dir, 'results.md'), confine),
    checkpoints: findCheckpoints(dir),
  };
}
