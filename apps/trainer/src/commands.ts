// The commands: each takes its checked invocation, loads what it was given, and calls the stage functions
// (stages/*) over those explicit inputs. `demo` is their composition in one run dir.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { BackendError, initBackend } from '@tagi/tensor-core';
import type { RunArtifact } from '@tagi/tensor-core/node';
import type { HyperNetwork } from '@tagi/hypernet';
import type { AdapterSet } from '@tagi/lora';
import type { TagiConfig } from './config.js';
import { type TaskData, type Tok, loadTaskData, modelTokenizer, prunedTokenizer } from './data.js';
import { readCorpus } from './corpus.js';
import { CliError, InterruptedError } from './errors.js';
import { inspectDir } from './inspect.js';
import type { GenerateInvocation, Invocation, RunCommand, RunInvocation } from './invocation.js';
import type { CliIO } from './io.js';
import { loadBaseModel, loadCheckedAdapter, loadCheckedHypernet, loadTeachers } from './models.js';
import { type MethodResult, type Results, METHOD_ROWS, resultsMarkdown, writeCurves, writeResults } from './results.js';
import { p3Eval } from './p3-eval.js';
import { isP3Dir } from './real-data.js';
import { Run } from './run.js';
import { pretrainBase } from './stages/base.js';
import { type EvalInputs, evaluate } from './stages/evaluate.js';
import { generate } from './stages/generate.js';
import { type BaseModel, finetuneHypernetStage, pretrainHypernetStage } from './stages/hypernet.js';
import { trainMultitask, trainTeachers } from './stages/teachers.js';

/** Selects the tfjs backend and says which one runs (and why the others did not). */
async function selectBackend(backend: TagiConfig['backend'], io: CliIO): Promise<string> {
  try {
    const r = await initBackend({ backend });
    const tried = r.tried.filter((t) => !t.ok).map((t) => `${t.name}: ${t.reason ?? 'failed'}`);
    io.stdout.write(`backend: ${r.backend} (requested ${r.requested}${tried.length > 0 ? `; not available: ${tried.join('; ')}` : ''})\n`);
    return r.backend;
  } catch (e) {
    if (e instanceof BackendError) throw new CliError(`--backend=${backend}: ${e.message}`);
    throw e;
  }
}

/** What a run was given by path, by role (recorded in trainer_state.json for inspect and the playground). */
function runInputs(command: RunCommand, c: TagiConfig): RunArtifact[] {
  const out: RunArtifact[] = [];
  if (c.model !== undefined) out.push({ role: 'base-model', kind: 't5', path: c.model });
  if (c.hypernetDir !== undefined) out.push({ role: command === 'eval' ? 'hypernet-tagi' : 'hypernet-pretrained', kind: 'hypernet', path: c.hypernetDir });
  if (c.adapter !== undefined) out.push({ role: 'multitask-adapter', kind: 'peft', path: c.adapter });
  if (c.teachersDir !== undefined) {
    for (const name of readdirSync(c.teachersDir).sort()) out.push({ role: 'teacher', kind: 'peft', path: path.join(c.teachersDir, name), name });
  }
  return out;
}

/** The task data and the tokenizer of the base model (or, for a base trained here, of the pruned vocabulary). */
async function dataAndTokenizer(run: Run): Promise<{ data: TaskData; tok: Tok }> {
  const c = run.config;
  const data = await loadTaskData(c, (m) => run.progress.info(m));
  const tok = c.model === undefined && c.base.pruneVocab ? prunedTokenizer(data, c.prompt.numPos) : modelTokenizer(c.model);
  run.progress.info(
    `data: ${data.train.length} training tasks (${data.trainExamples.length} instances), ${data.heldOut.length} held-out tasks (${data.heldOutExamples.length} instances); vocabulary ${tok.vocabSize} ids`,
  );
  return { data, tok };
}

/** The given base model (--model), loaded, checked and frozen. */
async function givenBase(run: Run): Promise<BaseModel> {
  const dir = run.config.model as string;
  const model = await loadBaseModel(dir);
  const mc = model.config;
  run.progress.info(`base T5: d_model ${mc.dModel}, ${mc.numLayers}+${mc.numDecoderLayers} layers, vocab ${mc.vocabSize} (${dir}); frozen`);
  return { model, dir };
}

async function report(run: Run, backend: string, t0: number, data: TaskData, tok: Tok, inputs: EvalInputs, rows: readonly MethodResult['method'][]): Promise<void> {
  run.checkStop();
  run.progress.info('== evaluation on held-out tasks');
  await run.beginStage('eval', 0);
  run.metrics.truncate('eval', 0); // events of an evaluation a stop cut short
  const te = performance.now();
  const byMethod = await evaluate(run, data, tok, inputs);
  await run.finishStage('eval', { summary: Object.fromEntries([...byMethod].map(([k, v]) => [k, Number((v.rougeL ?? 0).toFixed(2))])), seconds: (performance.now() - te) / 1000 });
  const results: Results = {
    preset: run.config.preset,
    backend,
    seed: run.config.seed,
    heldOutTasks: data.heldOut.length,
    heldOutInstances: data.heldOutExamples.length,
    wallClockSeconds: (performance.now() - t0) / 1000,
    stages: run.stageSeconds(),
    methods: METHOD_ROWS.filter((m) => rows.includes(m.id)).map((m) => byMethod.get(m.id) as MethodResult),
  };
  await writeResults(run.dir, results);
  run.progress.info(`\n${resultsMarkdown(results)}\nwrote ${run.dir}/results.json, results.md, metrics.jsonl, curves.svg`);
}

type RunBody = (run: Run, backend: string, t0: number) => Promise<void>;

const RUN_COMMANDS: Record<RunCommand, RunBody> = {
  async demo(run, backend, t0) {
    const c = run.config;
    const { data, tok } = await dataAndTokenizer(run);
    run.progress.info(c.model === undefined ? '== (a) base model: pretraining a small T5' : '== (a) base model: given');
    const base = c.model === undefined ? await pretrainBase(run, data, tok) : await givenBase(run);
    run.progress.info('== (b) LoRA teachers and (c) the instruction-concatenated multitask baseline');
    const teachers = await trainTeachers(run, base.model, data, tok);
    const multitask = await trainMultitask(run, base.model, data, tok);
    run.progress.info('== (d) hypernetwork pretraining');
    const pretrained = await pretrainHypernetStage(run, base, data, tok);
    run.progress.info('== (e) hypernetwork finetuning: TAGI (CE + KD + alignment), then CE only (HINT-like)');
    const tagi = await finetuneHypernetStage(run, 'tagi', base, data, tok, { pretrained, multitask, teachers });
    const hint = await finetuneHypernetStage(run, 'hint', base, data, tok, { pretrained });
    await report(run, backend, t0, data, tok, { model: base.model, multitask, hypernets: { tagi, hint } }, ['no-adapter', 'multitask', 'hint', 'tagi']);
  },
  async base(run) {
    const { data, tok } = await dataAndTokenizer(run);
    await pretrainBase(run, data, tok);
    await writeCurves(run.dir);
  },
  async teachers(run) {
    const { data, tok } = await dataAndTokenizer(run);
    const base = await givenBase(run);
    await trainTeachers(run, base.model, data, tok);
    await trainMultitask(run, base.model, data, tok);
    await writeCurves(run.dir);
  },
  async pretrain(run) {
    const { data, tok } = (await readCorpus(run)) ?? (await dataAndTokenizer(run)); // --data FILE.jsonl|DIR: a text corpus (corpus.ts)
    const base = await givenBase(run);
    await pretrainHypernetStage(run, base, data, tok);
    await writeCurves(run.dir);
  },
  async finetune(run) {
    const c = run.config;
    const { data, tok } = await dataAndTokenizer(run);
    const base = await givenBase(run);
    const pretrained = c.hypernetDir === undefined ? undefined : await loadCheckedHypernet(c.hypernetDir, base.model);
    const multitask = c.adapter === undefined ? undefined : await loadCheckedAdapter(c.adapter, base.model);
    const teachers = c.teachersDir === undefined ? undefined : await loadTeachers(c.teachersDir, base.model);
    const inputs = { ...(pretrained ? { pretrained } : {}), ...(multitask ? { multitask } : {}), ...(teachers ? { teachers } : {}) };
    await finetuneHypernetStage(run, 'tagi', base, data, tok, inputs);
    await finetuneHypernetStage(run, 'hint', base, data, tok, pretrained ? { pretrained } : {});
    await writeCurves(run.dir);
  },
  async eval(run, backend, t0) {
    const c = run.config;
    if (isP3Dir(c.data)) return p3Eval(run, c.data); // --data P3_DIR: rank classification (p3-eval.ts)
    const { data, tok } = await dataAndTokenizer(run);
    const base = await givenBase(run);
    const multitask: AdapterSet | undefined = c.adapter === undefined ? undefined : await loadCheckedAdapter(c.adapter, base.model);
    const tagi: HyperNetwork | undefined = c.hypernetDir === undefined ? undefined : await loadCheckedHypernet(c.hypernetDir, base.model);
    await report(run, backend, t0, data, tok, { model: base.model, ...(multitask ? { multitask } : {}), hypernets: tagi ? { tagi } : {} }, [
      'no-adapter',
      ...(multitask ? (['multitask'] as const) : []),
      ...(tagi ? (['tagi'] as const) : []),
    ]);
  },
};

async function runTraining(inv: RunInvocation): Promise<void> {
  const t0 = performance.now();
  const backend = await selectBackend(inv.config.backend, inv.io);
  const run = await Run.open(inv, runInputs(inv.command, inv.config));
  try {
    run.progress.info(`run dir: ${run.dir}${inv.resume ? ' (resuming)' : ''}`);
    if (inv.queue !== undefined) await (await import('./queue/commands.js')).runQueued(inv.command, run, backend, t0, inv.queue);
    else await RUN_COMMANDS[inv.command](run, backend, t0);
  } catch (e) {
    if (!(e instanceof InterruptedError)) run.discardIfUnstarted();
    throw e;
  } finally {
    run.close();
  }
}

async function runGenerate(inv: GenerateInvocation): Promise<void> {
  await selectBackend(inv.backend, inv.io);
  await generate({
    hypernetDir: inv.hypernetDir,
    instruction: inv.instruction,
    out: inv.out,
    ...(inv.model !== undefined ? { model: inv.model } : {}),
    info: (m) => inv.io.stdout.write(`${m}\n`),
    warn: (m) => inv.io.stderr.write(`tagi: warning: ${m}\n`),
  });
}

/** Runs a checked invocation. */
export async function runCommand(inv: Invocation): Promise<void> {
  if (inv.command === 'inspect') inv.io.stdout.write(inspectDir(inv.path));
  else if (inv.command === 'generate') await runGenerate(inv);
  else if (inv.command === 'worker') await (await import('./queue/worker.js')).runWorker(inv);
  else await runTraining(inv);
}
