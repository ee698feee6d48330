// The fixed files of a run dir (named in @tagi/run-dir) and the run's saved config, read with the trainer's
// schema (no heavy imports: argument checking uses them).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RUN_FILES } from '@tagi/run-dir';
import { type TagiConfig, validateConfig } from '../config/config.js';
import { CliError } from '../common/errors.js';

export const CONFIG_FILE = RUN_FILES.config;
export const METRICS_FILE = RUN_FILES.metrics;
export const LOCK_FILE = RUN_FILES.lock;

/** How a run command is typed (and resumed): `tagi experiment ablations`, `tagi experiment paper`, `tagi demo`, … */
export function commandLine(command: string): string {
  return command === 'experiment' ? 'experiment ablations' : command === 'experiment-paper' ? 'experiment paper' : command;
}

/** Default run dir: runs/<name or preset-UTC timestamp>. */
export function defaultRunDir(config: TagiConfig, now = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
  return path.join('runs', config.name ?? `${config.preset}-${stamp}`);
}

/** Reads and validates a run dir's saved config (for --resume). */
export function readRunConfig(runDir: string): TagiConfig {
  const file = path.join(runDir, CONFIG_FILE);
  if (!existsSync(file)) throw new CliError(`--resume: ${file} not found (is '${runDir}' a run dir?)`);
  let obj: unknown;
  try {
    obj = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError(`${file}: not valid JSON (${(e as Error).message}); the run cannot be resumed`);
  }
  return validateConfig(obj, file);
}
