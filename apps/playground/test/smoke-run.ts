// A real `tagi demo --preset=smoke` run made by the trainer's CLI (from source, through tsx), and the
// trainer's `tagi generate`: what the playground's end-to-end tests compare against.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readRunState, runArtifacts } from '@tagi/run-dir/node';
import { repoRoot } from './spawn-server';

export const trainerDir = path.join(repoRoot, 'apps', 'trainer');
const trainerCli = path.join(trainerDir, 'src', 'cli.ts');

/** Runs the trainer's CLI from source; its exit code and output. */
export function runTrainer(args: readonly string[], timeoutMs = 15 * 60_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: trainerDir,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, CI: 'true' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs `tagi demo --preset=smoke` (plus `extra` flags) into runDir; returns why the run cannot be used, or
 * undefined when it can. The run's models are checked by role, through the run state, as the playground reads them.
 */
export function runSmokeDemo(runDir: string, extra: readonly string[] = []): string | undefined {
  if (!fs.existsSync(trainerCli)) return `no trainer CLI at ${trainerCli}`;
  const r = runTrainer(['demo', '--preset=smoke', `--run-dir=${runDir}`, ...extra]);
  if (r.status !== 0) return `tagi demo --preset=smoke failed (exit ${r.status}): ${(r.stderr || r.stdout).split('\n').slice(-8).join('\n')}`;
  const state = readRunState(runDir);
  if (!state) return 'the smoke run wrote no trainer_state.json';
  if (runArtifacts(runDir, state, 'base-model').length === 0) return 'the smoke run recorded no base model';
  if (runArtifacts(runDir, state, 'hypernet-tagi').length === 0) return 'the smoke run recorded no finetuned hypernet (its hypernet stages were unavailable)';
  if (runArtifacts(runDir, state, 'multitask-adapter').length === 0) return 'the smoke run recorded no multitask baseline';
  return undefined;
}
