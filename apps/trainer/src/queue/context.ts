// What a worker loads for a run: its saved config, data, tokenizer, the frozen base model and the
// adapters/hypernetwork `tagi eval` was given. Loaded once per run and kept while jobs of the same run
// keep coming (a T5 load costs far more than a smoke job), released when a job of another run arrives.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { initBackend } from '@tagi/tensor-core';
import type { T5ForConditionalGeneration } from '@tagi/t5-model';
import type { TagiConfig } from '../config/config.js';
import { type TaskData, type Tok, loadTaskData, modelTokenizer } from '../data/tasks.js';
import { type EvalModels, loadBaseModel, loadEvalModels } from '../data/models.js';
import { CONFIG_FILE, readRunConfig } from '../run/run-files.js';
import { configHash } from '../run/run.js';
import type { JobData } from './jobs.js';

/** A job that can never succeed as given (config edited, task absent): fails once, never retried. */
export class QueueJobError extends Error {
  override readonly name = 'QueueJobError';
}

export interface RunContext {
  readonly runDir: string;
  readonly configHash: string;
  readonly backend: string;
  readonly config: TagiConfig;
  readonly data: TaskData;
  readonly tok: Tok;
  readonly model: T5ForConditionalGeneration;
  /** Loaded on first use by an eval job (teacher jobs never need them). */
  evalModels?: EvalModels;
  /** FLOPs per instance by method (stages/evaluate.ts methodFlops), computed by the first eval job. */
  evalFlops?: Record<string, number>;
  dispose(): void;
}

/** Whether `job` needs loading (another run than `current`'s, or evaluation models not loaded yet). */
export function needsLoad(current: RunContext | undefined, job: JobData): boolean {
  const same = current !== undefined && current.runDir === job.runDir && current.configHash === job.configHash && current.backend === job.backend;
  return !same || (job.kind === 'eval' && current.evalModels === undefined);
}

/** Loads (or reuses) the context of `job`'s run. */
export async function contextFor(current: RunContext | undefined, job: JobData, info: (m: string) => void): Promise<RunContext> {
  if (current && current.runDir === job.runDir && current.configHash === job.configHash && current.backend === job.backend) return current;
  current?.dispose();
  if (!existsSync(path.join(job.runDir, CONFIG_FILE))) {
    throw new QueueJobError(
      `${job.runDir}/${CONFIG_FILE} is not visible on this worker (${hostname()}): workers need the run dir at the same absolute path (a shared file system)`,
    );
  }
  const config = readRunConfig(job.runDir);
  const hash = configHash(config);
  if (hash !== job.configHash) {
    throw new QueueJobError(
      `${job.runDir}/config.json has config hash ${hash}, the job was enqueued for ${job.configHash}: the run's config changed after the job was queued`,
    );
  }
  if (config.model === undefined)
    throw new QueueJobError(`${job.runDir}/config.json names no model: queued jobs need a run of 'tagi teachers' or 'tagi eval' with --model`);
  // the enqueuer's backend, not this machine's 'auto' choice: another backend would give other bits
  const r = await initBackend({ backend: job.backend });
  const data = await loadTaskData(config, info);
  const tok = modelTokenizer(config.model);
  const model = await loadBaseModel(config.model);
  info(`run ${job.runDir}: backend ${r.backend}, ${data.train.length} training / ${data.heldOut.length} held-out tasks, base ${config.model}`);
  const ctx: RunContext = {
    runDir: job.runDir,
    configHash: hash,
    backend: job.backend,
    config,
    data,
    tok,
    model,
    dispose() {
      ctx.evalModels?.multitask?.dispose();
      for (const h of ctx.evalModels?.hypernets ?? []) h.hn.dispose();
      model.dispose();
    },
  };
  return ctx;
}

/** The adapter and hypernetwork of the run's config (`tagi eval --adapter/--hypernet`), loaded once. */
export async function evalModels(ctx: RunContext): Promise<EvalModels> {
  ctx.evalModels ??= await loadEvalModels(ctx.config, ctx.model);
  return ctx.evalModels;
}
