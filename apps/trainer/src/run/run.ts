// A run: its directory (locked while a process works in it), resolved config, progress and metrics, and
// its state — trainer_state.json, read and written only through @tagi/run-dir's run-state functions:
// which stages are done (with their outputs by role) and which one is running (with its checkpoints).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, rmdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatLr } from '@tagi/tensor-core';
import { type DirLock, acquireLock, writeFileAtomic } from '@tagi/tensor-core/node';
import { RUN_STATE_FILE, type RunArtifact, type RunState, type StageState, readRunState, stableJson, writeRunState } from '@tagi/run-dir/node';
import { CONFIG_KEYS, type TagiConfig, resumeMayChange } from '../config/config.js';
import type { RunCommand } from '../common/command-names.js';
import { CliError, InterruptedError } from '../common/errors.js';
import type { CliIO } from '../common/io.js';
import { MetricsWriter } from './metrics.js';
import { Progress } from './progress.js';
import { CONFIG_FILE, LOCK_FILE, METRICS_FILE, commandLine, readRunConfig } from './run-files.js';

/** Hash of a resolved config: a run resumes only under the config it started with. */
export function configHash(config: TagiConfig): string {
  return createHash('sha256').update(stableJson(config)).digest('hex').slice(0, 16);
}

/** `key old → new` for every config leaf that differs (a --resume that changes learning rates); refuses any other change. */
function configChanges(file: string, before: TagiConfig, after: TagiConfig): string[] {
  const get = (c: TagiConfig, key: string) => key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], c);
  const show = (v: unknown) => (typeof v === 'number' ? formatLr(v) : JSON.stringify(v));
  const changed = [...CONFIG_KEYS.keys()].filter((k) => stableJson(get(before, k)) !== stableJson(get(after, k)));
  const refused = changed.filter((k) => !resumeMayChange(k));
  if (refused.length > 0)
    throw new CliError(
      `--resume: ${refused.join(', ')} differ from ${file}; a resumed run keeps its config (only learning rates and optim.maxGradNorm may change)`,
    );
  return changed.map((k) => `${k} ${show(get(before, k))} → ${show(get(after, k))}`);
}

/** A file-system-safe name for a stage or group ('teachers/a b' → 'teachers/a_b'). */
export function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._/-]+/g, '_').replace(/\.\.+/g, '_');
}

/** What opening a run needs: a checked run invocation (cli/invocation.ts) is one. */
export interface RunOpening {
  readonly command: RunCommand;
  readonly config: TagiConfig;
  readonly runDir: string;
  readonly resume: boolean;
  readonly io: CliIO;
}

export class Run {
  private state: RunState;
  private constructor(
    readonly dir: string,
    readonly command: RunCommand,
    readonly config: TagiConfig,
    readonly resume: boolean,
    readonly progress: Progress,
    readonly metrics: MetricsWriter,
    readonly signal: AbortSignal,
    private readonly stopExitCode: () => number,
    private readonly lock: DirLock,
    state: RunState,
    /** The first directory this process created for the run (undefined: the run dir existed). */
    private readonly createdTop: string | undefined,
  ) {
    this.state = state;
  }

  /**
   * Creates the run dir (or reopens it with --resume) and takes its lock. A new run writes config.json,
   * an empty metrics.jsonl and trainer_state.json; if that fails, the directory it created is removed.
   */
  static async open(inv: RunOpening, inputs: readonly RunArtifact[]): Promise<Run> {
    const { runDir, config, command } = inv;
    const createdTop = mkdirSync(runDir, { recursive: true });
    const created = createdTop !== undefined;
    let lock: DirLock | undefined;
    try {
      lock = acquireLock(path.join(runDir, LOCK_FILE), `tagi ${commandLine(command)}${inv.resume ? ' --resume' : ''}`);
      let state: RunState;
      let changes: string[] = [];
      if (inv.resume) {
        const saved = readRunState(runDir);
        if (saved === undefined) throw new CliError(`--resume: ${path.join(runDir, RUN_STATE_FILE)} not found; nothing to resume`);
        const onDisk = readRunConfig(runDir);
        if (saved.configHash !== configHash(onDisk)) {
          throw new CliError(
            `${path.join(runDir, RUN_STATE_FILE)}: config hash ${saved.configHash} does not match ${CONFIG_FILE} (${configHash(onDisk)}); the config was edited after the run started, so it cannot be resumed exactly`,
          );
        }
        state = saved;
        changes = configChanges(path.join(runDir, CONFIG_FILE), onDisk, config);
        if (changes.length > 0) {
          // learning rates changed on the command line (invocation.ts allows no other key): the run goes on
          // under the new config. config.json keeps its modification time, which is the run's birth (queue/jobs.ts runId)
          const file = path.join(runDir, CONFIG_FILE);
          const born = statSync(file);
          await writeFileAtomic(file, stableJson(config));
          utimesSync(file, born.atime, born.mtime);
          state = { ...saved, configHash: configHash(config) };
          await writeRunState(runDir, state);
        }
      } else {
        // checked again under the lock: another process may have started a run here meanwhile
        if (readRunState(runDir) !== undefined || existsSync(path.join(runDir, CONFIG_FILE))) {
          throw new CliError(`run dir '${runDir}' already holds a run; continue it with --resume --run-dir=${runDir}, or choose another --run-dir`);
        }
        await writeFileAtomic(path.join(runDir, CONFIG_FILE), stableJson(config));
        writeFileSync(path.join(runDir, METRICS_FILE), '');
        state = { format: 'tagi-run', version: 2, command, configHash: configHash(config), inputs: [...inputs], stages: {} };
        await writeRunState(runDir, state);
      }
      const metrics = new MetricsWriter(path.join(runDir, METRICS_FILE));
      const progress = new Progress(inv.io.stdout, metrics, { ...(inv.io.tty !== undefined ? { tty: inv.io.tty } : {}), logEvery: config.logEvery });
      const signal = inv.io.signal ?? new AbortController().signal;
      if (changes.length > 0) progress.info(`resuming with changed settings (config.json updated): ${changes.join(', ')}`);
      return new Run(runDir, command, config, inv.resume, progress, metrics, signal, inv.io.stopExitCode ?? (() => 130), lock, state, createdTop);
    } catch (e) {
      lock?.release();
      if (created && !inv.resume && readRunState(runDir) === undefined) rmSync(createdTop as string, { recursive: true, force: true });
      throw e;
    }
  }

  /** The command that continues this run. */
  get resumeCommand(): string {
    return `tagi ${commandLine(this.command)} --resume --run-dir=${this.dir}`;
  }

  path(...rel: string[]): string {
    return path.join(this.dir, ...rel);
  }

  stage(name: string): StageState | undefined {
    return this.state.stages[name];
  }

  isDone(name: string): boolean {
    return this.state.stages[name]?.status === 'done';
  }

  /** Marks a stage running (with its checkpoint dir, relative); keeps its recorded progress on resume. */
  async beginStage(name: string, totalSteps: number, checkpoints?: string): Promise<void> {
    const prev = this.state.stages[name];
    await this.setStage(name, { status: 'running', step: prev?.status === 'running' ? prev.step : 0, totalSteps, ...(checkpoints ? { checkpoints } : {}) });
  }

  /** Records the last checkpointed update of a running stage. */
  async stageProgress(name: string, step: number): Promise<void> {
    const prev = this.state.stages[name];
    if (prev === undefined) return;
    await this.setStage(name, { ...prev, step });
  }

  /** Marks a stage done with what it wrote; its checkpoints are removed (they are no longer needed). */
  async finishStage(name: string, done: { outputs?: RunArtifact[]; summary?: Record<string, number | string>; seconds?: number } = {}): Promise<void> {
    const prev = this.state.stages[name];
    const total = prev?.totalSteps ?? 0;
    await this.setStage(name, {
      status: 'done',
      step: total,
      totalSteps: total,
      ...(done.outputs && done.outputs.length > 0 ? { outputs: done.outputs } : {}),
      ...(done.summary && Object.keys(done.summary).length > 0 ? { summary: done.summary } : {}),
      ...(done.seconds !== undefined ? { seconds: Math.round(done.seconds * 1000) / 1000 } : {}),
    });
    if (prev?.checkpoints) {
      rmSync(this.path(prev.checkpoints), { recursive: true, force: true });
      // and the parents left empty (checkpoints/teachers, checkpoints)
      for (let d = path.dirname(this.path(prev.checkpoints)); d.startsWith(this.path('checkpoints')); d = path.dirname(d)) {
        try {
          rmdirSync(d);
        } catch {
          break; // not empty (another stage's checkpoints) or gone
        }
      }
    }
  }

  private async setStage(name: string, s: StageState): Promise<void> {
    this.state = { ...this.state, stages: { ...this.state.stages, [name]: s } };
    await writeRunState(this.dir, this.state);
  }

  /** Seconds each finished stage took (results.json). */
  stageSeconds(): { id: string; seconds?: number }[] {
    return Object.entries(this.state.stages)
      .filter(([, s]) => s.status === 'done')
      .map(([id, s]) => ({ id, ...(s.seconds !== undefined ? { seconds: s.seconds } : {}) }));
  }

  /** Throws InterruptedError when a stop was requested (between stages nothing needs saving). */
  checkStop(where = 'between stages: finished stages are kept'): void {
    if (this.signal.aborted) throw this.interrupted(where);
  }

  /**
   * Lets the event loop turn (a signal handler runs only then: tfjs on cpu/wasm resolves its promises as
   * microtasks, so a loop of awaits alone never delivers SIGINT), then checks for a stop.
   */
  async yieldAndCheckStop(where?: string): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.checkStop(where);
  }

  /** The error that ends the command after a stop; `where` says what was kept. */
  interrupted(where: string): InterruptedError {
    return new InterruptedError(`interrupted ${where}; continue with: ${this.resumeCommand}`, this.stopExitCode());
  }

  /** Releases the run dir's lock. */
  close(): void {
    this.lock.release();
  }

  /**
   * After a failure before any stage began (a bad input found while loading, say): removes what this
   * process created — the run's files, then the directories it made — so no empty run is left for
   * `--resume` or the playground to find. A resumed run, or one with any stage recorded, is kept.
   */
  discardIfUnstarted(): void {
    if (this.resume || Object.keys(this.state.stages).length > 0) return;
    for (const f of [CONFIG_FILE, METRICS_FILE, RUN_STATE_FILE]) rmSync(this.path(f), { force: true });
    this.lock.release();
    if (this.createdTop === undefined) return;
    for (let d = this.dir; d.startsWith(this.createdTop); d = path.dirname(d)) {
      try {
        rmdirSync(d);
      } catch {
        return; // not empty: something else lives there
      }
    }
  }
}
