// Reading what `tagi demo` (or any run) left in a run dir, without assuming more than the file formats
// of ARCHITECTURE.md: metrics.jsonl, results.json/results.md, config.json, and the artefacts the run
// recorded by role in trainer_state.json (read by run-models.ts through @tagi/run-dir's one reader).
// Marker files only tell which dirs are runs, and whether a dir opened on its own is an HF T5 dir.
import fs from 'node:fs';
import path from 'node:path';
import { type ArtifactKind, RUN_FILES, type ResultsView, resultsView } from '@tagi/run-dir';
import { aboutFile } from './os-errors';
import { realFileUnderRoots } from './paths';
import { type FileResolver, readRunArtifacts } from './run-models';

export class RunDirError extends Error {
  constructor(
    readonly dir: string,
    readonly fault: string,
  ) {
    super(`${dir}: ${fault}`);
    this.name = 'RunDirError';
  }
}

export type CheckpointKind = ArtifactKind;

/** An artefact of a run as its trainer_state.json records it. */
export interface RunArtifactInfo {
  readonly role: string;
  readonly kind: CheckpointKind;
  /** Distinguishes artefacts of one role (a teacher's task or category). */
  readonly name?: string;
  /** Its directory (absolute). */
  readonly dir: string;
  /** Path relative to the run dir, as recorded (absolute for an input given by path). */
  readonly path: string;
  /** The stage that wrote it; undefined for an input. */
  readonly stage?: string;
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

const RUN_MARKERS = [RUN_FILES.state, RUN_FILES.metrics, RUN_FILES.results, RUN_FILES.resultsMarkdown];

function exists(p: string): boolean {
  try {
    fs.accessSync(p);
    return true;
  } catch {
    return false;
  }
}

/** What kind of checkpoint a dir is, from its marker files; undefined when none. Used for a dir opened on its own, never to find a run's roles. */
export function checkpointKind(dir: string): CheckpointKind | undefined {
  if (exists(path.join(dir, 'hypernet_config.json'))) return 'hypernet';
  if (exists(path.join(dir, 'adapter_config.json'))) return 'peft';
  if (exists(path.join(dir, 'config.json')) && (exists(path.join(dir, 'model.safetensors')) || exists(path.join(dir, 'model.safetensors.index.json'))))
    return 't5';
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
      const mtimeMs = Math.max(
        ...RUN_MARKERS.map((m) => path.join(dir, m))
          .filter(exists)
          .map((p) => fs.lstatSync(p).mtimeMs),
      );
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

export type { FileResolver } from './run-models';

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
  /** results.json read with @tagi/run-dir's `resultsView` (version 2 summary, version 1 table, or plain rows). */
  readonly resultsView: ResultsView;
  readonly resultsMarkdown: string | undefined;
  /** The run's artefacts by role, from trainer_state.json. */
  readonly artifacts: RunArtifactInfo[];
  /** Why the artefacts are unknown (no trainer_state.json, a version-1 one, a broken one). */
  readonly runState?: string;
}

/**
 * Reads a run dir's files. Each file goes through `resolve` first; by default a file must resolve inside
 * the run dir itself, so a symlink such as `results.md -> /etc/passwd` is refused, never read.
 */
export function readRunDir(dir: string, resolve?: FileResolver): RunDetails {
  if (!fs.statSync(dir).isDirectory()) throw new RunDirError(dir, 'not a directory');
  const confine = resolve ?? ((file: string) => realFileUnderRoots({ dirs: [fs.realpathSync(dir)] }, file));
  const metricsText = readTextIfPresent(path.join(dir, RUN_FILES.metrics), confine);
  const results = readJsonIfPresent(path.join(dir, RUN_FILES.results), confine);
  const arts = readRunArtifacts(dir, confine);
  return {
    dir,
    name: path.basename(dir),
    config: readJsonIfPresent(path.join(dir, RUN_FILES.config), confine),
    metrics: metricsText === undefined ? [] : parseMetricsJsonl(metricsText, path.join(dir, RUN_FILES.metrics)),
    results,
    resultsView: resultsView(results, path.join(dir, RUN_FILES.results)),
    resultsMarkdown: readTextIfPresent(path.join(dir, RUN_FILES.resultsMarkdown), confine),
    artifacts: arts.artifacts.map((a) => ({
      role: a.role,
      kind: a.kind,
      ...(a.name === undefined ? {} : { name: a.name }),
      dir: a.dir,
      path: a.path,
      ...(a.stage === undefined ? {} : { stage: a.stage }),
    })),
    ...(arts.problem ? { runState: arts.problem } : {}),
  };
}
