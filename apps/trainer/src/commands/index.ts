// Command dispatch. Every training command selects the backend first and reports it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BackendError, initBackend } from '@tagi/tensor-core';
import { CliError } from '../errors.js';
import type { Invocation } from '../main.js';
import { inspectDir, checkT5Dir } from './inspect.js';

export async function selectBackend(inv: Invocation): Promise<string> {
  try {
    const r = await initBackend({ backend: inv.config.backend });
    const tried = r.tried.filter((t) => !t.ok).map((t) => `${t.name}: ${t.reason ?? 'failed'}`);
    inv.io.stdout.write(`backend: ${r.backend} (requested ${r.requested}${tried.length > 0 ? `; not available: ${tried.join('; ')}` : ''})\n`);
    return r.backend;
  } catch (e) {
    if (e instanceof BackendError) throw new CliError(`--backend=${inv.config.backend}: ${e.message}`);
    throw e;
  }
}

/** Path checks shared by the commands (before any work starts, so bad input costs nothing). */
export function checkInputs(inv: Invocation): void {
  const c = inv.config;
  if (c.model !== undefined) checkT5Dir(c.model);
  if (c.data !== 'embedded' && (c.data.includes('/') || existsSync(c.data))) {
    if (!existsSync(c.data)) throw new CliError(`--data: '${c.data}' does not exist (expected 'embedded', an SNI directory or a registered dataset name)`);
    if (!existsSync(path.join(c.data, 'tasks')) || !existsSync(path.join(c.data, 'splits'))) {
      throw new CliError(`--data: '${c.data}' is not an SNI directory (expected tasks/ and splits/ inside)`);
    }
  }
  if (c.hypernetDir !== undefined && inv.command !== 'pretrain' && !existsSync(c.hypernetDir)) throw new CliError(`--hypernet: '${c.hypernetDir}' does not exist`);
  if (c.adapter !== undefined && !existsSync(c.adapter)) throw new CliError(`--adapter: '${c.adapter}' does not exist`);
  if (c.teachersDir !== undefined && !existsSync(c.teachersDir)) throw new CliError(`--teachers-dir: '${c.teachersDir}' does not exist`);
}

export async function runCommand(inv: Invocation): Promise<void> {
  if (inv.command === 'inspect') {
    inv.io.stdout.write(inspectDir(inv.positionals[0] as string));
    return;
  }
  checkInputs(inv);
  const { runDemoLike } = await import('./train.js');
  await runDemoLike(inv);
}
