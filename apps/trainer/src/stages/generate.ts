// `tagi generate`: instruction → peft adapter dir with a trained hypernetwork (encoded once, generated
// once). With concat fusion the adapter alone is not the whole student: the file records that in
// adapter_config.json's extra field and the command says so.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { generateAdapter } from '@tagi/hypernet';
import { loadHypernet } from '@tagi/hypernet/node';
import { loadAdapter, saveAdapter } from '@tagi/lora/node';
import type { AdapterSet } from '@tagi/lora';
import type { T5ForConditionalGeneration } from '@tagi/t5-model';
import { CliError } from '../errors.js';
import type { RunContext } from '../run.js';
import type { Tok } from './data.js';

export async function generateStage(ctx: RunContext, model: T5ForConditionalGeneration, tok: Tok): Promise<void> {
  const c = ctx.config;
  if (c.hypernetDir === undefined) throw new CliError('generate needs --hypernet=DIR (a trained hypernetwork)');
  if (c.instruction === undefined) throw new CliError('generate needs --instruction="TEXT"');
  const out = path.resolve(c.out ?? path.join(ctx.runDir, 'adapter'));
  if (existsSync(out) && readdirSync(out).length > 0) throw new CliError(`--out: '${out}' exists and is not empty; nothing was overwritten`);
  const hn = await loadHypernet(c.hypernetDir, model);
  const t0 = performance.now();
  const task = generateAdapter(hn, tok.encode(c.instruction, { maxLength: c.prompt.maxSourceLength }));
  try {
    await saveAdapter(out, task.adapter);
  } finally {
    task.dispose();
  }
  ctx.progress.info(`  wrote peft adapter ${out} (rank ${hn.config.rank}, ${((performance.now() - t0) / 1000).toFixed(2)} s)`);
  if (hn.config.fusion === 'concat') {
    ctx.progress.info('  note: this hypernetwork also fuses the encoded instruction into cross-attention; the adapter alone is the LoRA part of the student');
  }
}

/** `eval`/`finetune` inputs given on the command line: --hypernet, --adapter, --teachers-dir. */
export async function loadGiven(ctx: RunContext, model: T5ForConditionalGeneration): Promise<{ hypernet?: Awaited<ReturnType<typeof loadHypernet>>; adapter?: AdapterSet; teachers?: Map<string, AdapterSet> }> {
  const c = ctx.config;
  const r: { hypernet?: Awaited<ReturnType<typeof loadHypernet>>; adapter?: AdapterSet; teachers?: Map<string, AdapterSet> } = {};
  if (c.hypernetDir !== undefined) r.hypernet = await loadHypernet(c.hypernetDir, model);
  if (c.adapter !== undefined) r.adapter = await loadAdapter(c.adapter);
  if (c.teachersDir !== undefined) {
    r.teachers = new Map();
    for (const name of readdirSync(c.teachersDir).sort()) {
      const dir = path.join(c.teachersDir, name);
      if (existsSync(path.join(dir, 'adapter_config.json'))) r.teachers.set(name, await loadAdapter(dir));
    }
  }
  return r;
}
