// `tagi inspect PATH`: what a directory is and what it holds, without loading tensors.
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseSafetensorsHeader } from '@tagi/tensor-core';
import { RUN_STATE_FILE, readRunState, runArtifacts } from '@tagi/run-dir/node';
import { CliError } from '../common/errors.js';

export type DirKind = 'run' | 'adapter' | 'hypernet' | 'model';

function readJson(file: string): Record<string, unknown> {
  let obj: unknown;
  try {
    obj = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new CliError(`${file}: expected a JSON object`);
  return obj as Record<string, unknown>;
}

/** Tensor names, shapes and element count from a safetensors header (reads only the header). */
export function safetensorsSummary(file: string): { tensors: number; params: number; shapes: Map<string, number[]>; metadata: Record<string, string> } {
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  try {
    const len = Buffer.alloc(8);
    readSync(fd, len, 0, 8, 0);
    const n = Number(len.readBigUInt64LE(0));
    const headerBytes = Buffer.alloc(8 + Math.min(n, size));
    readSync(fd, headerBytes, 0, headerBytes.length, 0);
    const h = parseSafetensorsHeader(new Uint8Array(headerBytes.buffer, headerBytes.byteOffset, headerBytes.length), file, size);
    const shapes = new Map<string, number[]>();
    let params = 0;
    for (const [k, e] of h.entries) {
      shapes.set(k, e.shape);
      params += e.shape.reduce((a, b) => a * b, 1);
    }
    return { tensors: h.entries.size, params, shapes, metadata: h.metadata };
  } finally {
    closeSync(fd);
  }
}

export function detectDirKind(dir: string): DirKind {
  if (!existsSync(dir)) throw new CliError(`'${dir}': no such file or directory`);
  if (!statSync(dir).isDirectory()) throw new CliError(`'${dir}' is a file; inspect takes a model, adapter, hypernet or run directory`);
  if (existsSync(path.join(dir, RUN_STATE_FILE))) return 'run';
  if (existsSync(path.join(dir, 'adapter_config.json'))) return 'adapter';
  if (existsSync(path.join(dir, 'hypernet_config.json'))) return 'hypernet';
  if (existsSync(path.join(dir, 'config.json'))) return 'model';
  throw new CliError(
    `'${dir}' is not a model dir (config.json), adapter dir (adapter_config.json), hypernet dir (hypernet_config.json) or run dir (trainer_state.json)`,
  );
}

/** Checks that `dir` is an HF T5 directory: config.json of a T5 and weights. Returns the parsed config.json. */
export function checkT5Dir(dir: string, flag = '--model'): Record<string, unknown> {
  if (!existsSync(dir)) throw new CliError(`${flag}: '${dir}' does not exist`);
  if (!statSync(dir).isDirectory()) throw new CliError(`${flag}: '${dir}' is not a directory`);
  const cfgFile = path.join(dir, 'config.json');
  if (!existsSync(cfgFile)) throw new CliError(`${flag}: '${dir}' has no config.json (expected a Hugging Face T5 directory)`);
  const cfg = readJson(cfgFile);
  const type = cfg['model_type'];
  const archs = Array.isArray(cfg['architectures']) ? (cfg['architectures'] as unknown[]).map(String) : [];
  const looksT5 = type === 't5' || archs.some((a) => a.startsWith('T5')) || (type === undefined && 'd_kv' in cfg && 'num_heads' in cfg);
  if (!looksT5) {
    throw new CliError(
      `${flag}: '${dir}' is not a T5 model (config.json model_type is ${JSON.stringify(type)}${archs.length ? `, architectures ${archs.join(', ')}` : ''}; expected 't5')`,
    );
  }
  if (!existsSync(path.join(dir, 'model.safetensors')) && !existsSync(path.join(dir, 'model.safetensors.index.json'))) {
    throw new CliError(
      `${flag}: '${dir}' has no model.safetensors or model.safetensors.index.json (PyTorch .bin weights are not read; convert with safetensors)`,
    );
  }
  return cfg;
}

export function inspectDir(dir: string): string {
  const kind = detectDirKind(dir);
  const lines: string[] = [];
  if (kind === 'run') {
    const state = readRunState(dir);
    if (state === undefined) throw new CliError(`'${dir}': no trainer_state.json`);
    const cfg = existsSync(path.join(dir, 'config.json')) ? readJson(path.join(dir, 'config.json')) : {};
    lines.push(
      `run dir ${dir} (tagi ${state.command})`,
      `  preset: ${String(cfg['preset'] ?? '?')}  seed: ${String(cfg['seed'] ?? '?')}  backend: ${String(cfg['backend'] ?? '?')}`,
    );
    lines.push('  stages:');
    for (const [name, s] of Object.entries(state.stages)) {
      const summary =
        s.summary && Object.keys(s.summary).length > 0
          ? `  ${Object.entries(s.summary)
              .map(([k, v]) => `${k}=${String(v)}`)
              .join(' ')}`
          : '';
      lines.push(
        `    ${name.padEnd(28)} ${s.status.padEnd(8)} ${s.step}/${s.totalSteps}${summary}${s.status === 'running' && s.checkpoints ? `  checkpoints: ${s.checkpoints}` : ''}`,
      );
    }
    const artifacts = runArtifacts(dir, state);
    if (artifacts.length > 0) {
      lines.push('  artefacts:');
      for (const a of artifacts)
        lines.push(
          `    ${`${a.role}${a.name !== undefined ? ` ${a.name}` : ''}`.padEnd(28)} ${a.kind.padEnd(8)} ${path.relative(dir, a.dir).startsWith('..') ? a.dir : path.relative(dir, a.dir)}${a.stage === undefined ? ' (given)' : ''}`,
        );
    }
    const files = readdirSync(dir)
      .filter((f) => !f.startsWith('.'))
      .sort();
    lines.push(`  files: ${files.join(', ')}`);
    if (existsSync(path.join(dir, 'results.md'))) lines.push('', readFileSync(path.join(dir, 'results.md'), 'utf8').trimEnd());
  } else if (kind === 'adapter') {
    const cfg = readJson(path.join(dir, 'adapter_config.json'));
    lines.push(`peft adapter dir ${dir}`);
    for (const k of ['peft_type', 'r', 'lora_alpha', 'use_rslora', 'target_modules', 'base_model_name_or_path', 'task_type']) {
      if (k in cfg) lines.push(`  ${k}: ${JSON.stringify(cfg[k])}`);
    }
    const st = path.join(dir, 'adapter_model.safetensors');
    if (existsSync(st)) {
      const s = safetensorsSummary(st);
      const modules = new Set([...s.shapes.keys()].map((k) => k.replace(/\.lora_[AB]\.weight$/, '')));
      lines.push(`  adapter_model.safetensors: ${s.tensors} tensors, ${s.params.toLocaleString('en-US')} parameters, ${modules.size} modules`);
      const first = [...s.shapes.entries()].slice(0, 4).map(([k, v]) => `    ${k} [${v.join(', ')}]`);
      lines.push(...first);
    } else lines.push('  adapter_model.safetensors: MISSING');
  } else if (kind === 'hypernet') {
    const cfg = readJson(path.join(dir, 'hypernet_config.json'));
    lines.push(`hypernet dir ${dir}`);
    for (const [k, v] of Object.entries(cfg)) lines.push(`  ${k}: ${JSON.stringify(v)}`);
    const st = path.join(dir, 'hypernet.safetensors');
    if (existsSync(st)) {
      const s = safetensorsSummary(st);
      lines.push(`  hypernet.safetensors: ${s.tensors} tensors, ${s.params.toLocaleString('en-US')} parameters`);
    } else lines.push('  hypernet.safetensors: MISSING');
  } else {
    const cfg = checkT5Dir(dir, 'inspect');
    lines.push(`T5 model dir ${dir}`);
    for (const k of [
      'model_type',
      'd_model',
      'd_kv',
      'num_heads',
      'd_ff',
      'num_layers',
      'num_decoder_layers',
      'feed_forward_proj',
      'vocab_size',
      'tie_word_embeddings',
    ]) {
      if (k in cfg) lines.push(`  ${k}: ${JSON.stringify(cfg[k])}`);
    }
    const st = path.join(dir, 'model.safetensors');
    if (existsSync(st)) {
      const s = safetensorsSummary(st);
      lines.push(`  model.safetensors: ${s.tensors} tensors, ${s.params.toLocaleString('en-US')} parameters`);
    } else lines.push('  weights: sharded (model.safetensors.index.json)');
    lines.push(`  tokenizer.json: ${existsSync(path.join(dir, 'tokenizer.json')) ? 'present' : 'absent (the standard T5 tokenizer is used)'}`);
    if (existsSync(path.join(dir, 'pruned_vocab.json'))) {
      const pv = readJson(path.join(dir, 'pruned_vocab.json'));
      lines.push(
        `  pruned_vocab.json: ${Array.isArray(pv['kept_ids']) ? (pv['kept_ids'] as unknown[]).length : '?'} of ${String(pv['original_vocab_size'])} ids kept`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
