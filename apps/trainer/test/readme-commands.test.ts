// The README's Examples block, executed: every `tagi …` line of apps/trainer/README.md's Examples is
// parsed as a shell would (quotes, `\` continuations, comments) and run in order through `main`, in a
// temporary directory that is also $HOME (so `~/…` resolves there), with `data/…` linked to the shared
// samples, a small corpus.jsonl, and the Hub id the README names served by the local fixture Hub (no
// network). Only test-sized settings are appended: `--preset=smoke` (or, for an LM-adapt preset, one step
// per stage and a few instances, every other setting of the preset kept) and `--backend=wasm`.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRandomT5, makeT5Config } from '@tagi/t5-model';
import { saveT5 } from '@tagi/t5-model/node';
import { type HubFixture, startHubFixture } from '@tagi/t5-model/testing';
import { initBackend } from '@tagi/tensor-core';
import { readRunState } from '@tagi/run-dir/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../src/config/config.js';
import { commandFlags } from '../src/cli/invocation.js';
import type { CommandName } from '../src/common/command-names.js';
import { main } from '../src/cli/main.js';
import { readResults } from '../src/results/results.js';
import { captureIO } from '../src/common/test-helpers.js';

const README = path.resolve(import.meta.dirname, '..', 'README.md');
// the shared reference data beside the repository (../shared/data, see its README)
const SHARED_DATA = path.resolve(import.meta.dirname, '..', '..', '..', '..', 'shared', 'data');

/** Splits one shell command line into words: single and double quotes, backslash escapes, `#` comments. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (ch === '#' && !inWord) break;
    if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (ch === "'" || ch === '"') {
      const end = line.indexOf(ch, i + 1);
      if (end < 0) throw new Error(`unterminated ${ch} in: ${line}`);
      cur += line.slice(i + 1, end);
      i = end;
    } else if (ch === '\\' && i + 1 < line.length) cur += line[++i];
    else cur += ch;
  }
  if (inWord) words.push(cur);
  return words;
}

/** The `tagi …` commands of the README's Examples block, as argv arrays (without `tagi`). */
function readmeExamples(markdown: string): string[][] {
  const start = markdown.indexOf('Examples:\n\n```bash\n');
  if (start < 0) throw new Error('README: no "Examples:" bash block');
  const body = markdown.slice(start + 'Examples:\n\n```bash\n'.length, markdown.indexOf('\n```', start + 12));
  return body
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map(shellWords)
    .filter((w) => w.length > 0)
    .map((w) => {
      if (w[0] !== 'tagi') throw new Error(`README Examples: a line that is not a tagi command: ${w.join(' ')}`);
      return w.slice(1);
    });
}

/** One update per stage and a few instances: what an LM-adapt preset's run needs to finish in seconds. */
const LM_ADAPT_SMOKE = [
  '--teachers.train.steps=1',
  '--multitask.train.steps=1',
  '--hypernet.pretrain.steps=1',
  '--hypernet.finetune.steps=1',
  '--prompt.max-instances-per-task=2',
  '--prompt.max-eval-instances-per-task=1',
  '--prompt.max-target-length=8',
];

/** The README command with test-sized settings appended (options a command does not read are left out). */
function smokeSized(argv: readonly string[]): string[] {
  const command = argv[0] as CommandName;
  if (command === 'inspect') return [...argv];
  if (command === 'generate') return [...argv, '--backend=wasm'];
  if (argv.includes('--resume')) return [...argv]; // a resumed run takes its saved config, nothing else
  const flags = commandFlags(command);
  const lmAdapt = argv.some((a) => /^--preset=t5-.*-lm-adapt$/.test(a));
  const extra = lmAdapt ? LM_ADAPT_SMOKE.filter((f) => flags.includes(f.slice(2, f.indexOf('=')))) : ['--preset=smoke'];
  return [...argv, ...extra, '--backend=wasm'];
}

const home = mkdtempSync(path.join(tmpdir(), 'tagi-readme-'));
const env = { ...process.env };
let hub: HubFixture;

async function tagi(argv: readonly string[], signal?: AbortSignal, onOut?: (s: string) => void) {
  const io = { ...captureIO(signal, onOut), cwd: home };
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  mkdirSync(path.join(home, 'data'));
  symlinkSync(path.join(SHARED_DATA, 'p3'), path.join(home, 'data', 'p3'));
  symlinkSync(path.join(SHARED_DATA, 'sni'), path.join(home, 'data', 'natural-instructions'));
  const docs = [
    'Hypernetworks write adapter weights from a task instruction.',
    'Return the last word of the input.',
    'A frozen model reads the task input alone.',
  ];
  writeFileSync(path.join(home, 'corpus.jsonl'), `${docs.map((text) => JSON.stringify({ text })).join('\n')}\n`);
  // what the README's Hub id names, in miniature: the real T5 vocabulary, random weights
  const lmAdapt = path.join(home, 'fixture-t5-small-lm-adapt');
  const shape = { dModel: 16, dKv: 4, numHeads: 2, dFf: 32, numLayers: 1, numDecoderLayers: 1, feedForwardProj: 'gated-gelu' as const };
  await saveT5(createRandomT5(makeT5Config({ ...shape, vocabSize: 32128 }), 3), lmAdapt);
  hub = await startHubFixture({ 'google/t5-small-lm-adapt': { dir: lmAdapt, commit: 'abcdef0123456789abcdef0123456789abcdef01' } });
  Object.assign(process.env, { HOME: home, HF_ENDPOINT: hub.url, HF_HUB_CACHE: path.join(home, 'hf-cache') });
  delete process.env['HF_HUB_OFFLINE'];
});
afterAll(async () => {
  await hub.close();
  for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k];
  Object.assign(process.env, env);
  rmSync(home, { recursive: true, force: true });
});

// the examples read the shared samples (../shared/data); where they are absent this suite is skipped, visibly
describe.skipIf(!existsSync(path.join(SHARED_DATA, 'p3', 'superglue')) || !existsSync(path.join(SHARED_DATA, 'sni', 'tasks')))('README examples', () => {
  it('parses shell lines as a shell would', () => {
    expect(shellWords(`tagi generate --instruction="Return the last word." --out='a b' x\\ y  # comment`)).toEqual([
      'tagi',
      'generate',
      '--instruction=Return the last word.',
      '--out=a b',
      'x y',
    ]);
  });

  it('every `tagi …` line of the Examples block runs (exit 0) and does what its comment says', async () => {
    const examples = readmeExamples(readFileSync(README, 'utf8'));
    expect(examples.map((a) => a[0])).toEqual(['base', 'teachers', 'pretrain', 'finetune', 'eval', 'eval', 'pretrain', 'demo', 'generate', 'inspect', 'demo']);

    for (const argv of examples) {
      if (argv[0] === 'demo' && argv.includes('--resume')) {
        // "after Ctrl-C or SIGTERM": stop a demo in that run dir first, as a user would have
        const runDir = (argv.find((a) => a.startsWith('--run-dir=')) as string).slice('--run-dir='.length);
        const stop = new AbortController();
        const stopped = await tagi(['demo', '--preset=smoke', '--backend=wasm', `--run-dir=${runDir}`], stop.signal, (s) => {
          if (s.includes('== (b)')) stop.abort();
        });
        expect(stopped.code, stopped.err).toBe(130);
        expect(stopped.err).toContain(`continue with: tagi demo --resume --run-dir=${path.join(home, runDir)}`);
      }
      const r = await tagi(smokeSized(argv));
      expect(r.code, `tagi ${smokeSized(argv).join(' ')}\n${r.err}`).toBe(0);
      // stderr carries only download progress and warnings
      for (const line of r.err.split('\n').filter((l) => l !== '')) expect(line).toMatch(/^tagi: (downloaded|warning)/);
    }

    // what the commands wrote
    const p3 = JSON.parse(readFileSync(path.join(home, 'runs/p3/rank_results-tagi.json'), 'utf8')) as { datasets: { dataset: string }[] };
    expect(p3.datasets.map((d) => d.dataset)).toContain('super_glue/rte');
    expect(existsSync(path.join(home, 'runs/p3/rank_results.md'))).toBe(true);
    // pretraining writes one hypernetwork per seed (hypernet-pretrained/seed-N), each a finished stage
    const preText = readRunState(path.join(home, 'runs/pre-text'))!;
    const preStages = Object.entries(preText.stages).filter(([id]) => id.startsWith('hypernet-pretrained/seed-'));
    expect(preStages.length).toBeGreaterThan(0);
    for (const [id, st] of preStages) expect(st.status, id).toBe('done');
    expect(existsSync(path.join(home, 'adapters/last-word/adapter_config.json'))).toBe(true);
    for (const s of Object.values(readRunState(path.join(home, 'runs/demo'))!.stages)) expect(s.status).toBe('done');
    // the LM-adapt run: the Hub id resolved into the HF cache; the preset's settings apart from the appended sizes
    const lm = validateConfig(JSON.parse(readFileSync(path.join(home, 'runs/lm/config.json'), 'utf8')), 'config.json');
    expect(lm.model).toMatch(/hf-cache\/models--google--t5-small-lm-adapt\/snapshots\/abcdef0123456789abcdef0123456789abcdef01$/);
    expect(lm.data).toBe(path.join(home, 'data/natural-instructions'));
    expect({
      preset: lm.preset,
      src: lm.prompt.maxSourceLength,
      numPos: lm.prompt.numPos,
      lr: lm.hypernet.finetune.lr,
      rank: lm.hypernet.rank,
      teacherRank: lm.teachers.rank,
      t: lm.distill.temperature,
    }).toEqual({
      preset: 't5-small-lm-adapt',
      src: 1024,
      numPos: 2,
      lr: 5e-5,
      rank: 32,
      teacherRank: 16,
      t: 3,
    });
    // results v2: the demo's four trained method rows and TAGI's two instruction controls, every one evaluated (no reason for a missing row)
    const lmRows = readResults(path.join(home, 'runs/lm'))!.summary.rows.filter((row) => row.kind === 'method');
    expect(lmRows.map((row) => row.method)).toEqual(['no-adapter', 'multitask', 'hint', 'tagi', 'tagi-wrong-instruction', 'tagi-empty-instruction']);
    for (const row of lmRows) expect(row.reason, row.method).toBeNull();
  }, 900_000); // eleven commands, two of them demos of the smoke preset and one on the SNI sample
});
