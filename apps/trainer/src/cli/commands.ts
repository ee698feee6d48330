// The commands: each takes its checked invocation, loads what it was given, and calls the stage functions
// (stages/*) over those explicit inputs. `demo` is their composition in one run dir.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { BackendError, initBackend } from '@tagi/tensor-core';
import type { RunArtifact } from '@tagi/run-dir/node';
import { TeacherLogitCache } from '@tagi/hypernet';
import type { AdapterSet } from '@tagi/lora';
import { type TagiConfig, withNumPos } from '../config/config.js';
import { type TaskData, type Tok, loadTaskData, modelTokenizer, prunedTokenizer } from '../data/tasks.js';
import { readCorpus } from '../data/corpus.js';
import { CliError, InterruptedError } from '../common/errors.js';
import { inspectDir } from '../run/inspect.js';
import type { RunCommand } from '../common/command-names.js';
import type { GenerateInvocation, Invocation, RunInvocation } from './invocation.js';
import type { CliIO } from '../common/io.js';
import { type HypernetEntry, loadBaseModel, loadCheckedAdapter, loadCheckedHypernet, loadEvalModels, loadTeachers } from '../data/models.js';
import { expectedTimeLine } from './estimate.js';
import { DEF_2POS, methodLabel, writeCurves } from '../results/results.js';
import { p3Eval } from '../stages/p3-eval.js';
import { type ReportPlan, demoPlan, evalPlan, finishReport, loadAverage, paperPlan } from '../stages/report.js';
import { isP3Dir } from '../data/sources.js';
import { Run } from '../run/run.js';
import { pretrainBase } from '../stages/base.js';
import { type EvalInputs, evaluate } from '../stages/evaluate.js';
import { generate } from '../stages/generate.js';
import {
  type BaseModel,
  type HypernetVariant,
  ablationVariants,
  demoVariants,
  finetuneHypernetStage,
  hypernetSeeds,
  needsTeachers,
  paperVariants,
  pretrainHypernetStage,
} from '../stages/hypernet.js';
import { MULTITASK_DIR, trainMultitask, trainTeachers } from '../stages/teachers.js';

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
    `data: ${data.source}: ${data.train.length} training tasks (${data.trainExamples.length} instances); evaluation ${data.evalSets.map((s) => `${s.split} ${s.tasks.length} tasks / ${s.tasks.reduce((n, t) => n + t.instances.length, 0)} instances`).join(', ')}; vocabulary ${tok.vocabSize} ids`,
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

async function report(
  run: Run,
  facts: { backend: string; t0: number; load0: number[] | null },
  data: TaskData,
  tok: Tok,
  inputs: EvalInputs,
  plan: ReportPlan,
): Promise<void> {
  run.checkStop();
  run.progress.info('== (f) evaluation: every method on every evaluation setting');
  await run.beginStage('eval', 0);
  run.metrics.truncate('eval', 0); // events of an evaluation a stop cut short
  const te = performance.now();
  await finishReport(run, facts, data, await evaluate(run, data, tok, inputs), plan, te);
}

/**
 * Pretraining and the finetuned variants of every hypernetwork seed (each seed's variants start from that
 * seed's pretrained weights). The variants of one prompt setting distil from the same teachers on the same
 * examples, so their teacher logits are computed once for all seeds and variants (a teacher-logit cache per
 * setting: the concatenated model's logits differ between Def and Def+2Pos).
 */
async function trainHypernets(
  run: Run,
  base: BaseModel,
  data: TaskData,
  tok: Tok,
  variants: readonly HypernetVariant[],
  inputs: { multitask: (v: HypernetVariant) => AdapterSet | undefined; teachers?: ReadonlyMap<string, AdapterSet> },
): Promise<HypernetEntry[]> {
  const out: HypernetEntry[] = [];
  const seeds = hypernetSeeds(run.config);
  const caches = new Map<number, TeacherLogitCache>();
  const cacheOf = (v: HypernetVariant) => {
    const key = v.numPos ?? run.config.prompt.numPos;
    if (!caches.has(key)) caches.set(key, new TeacherLogitCache());
    return caches.get(key) as TeacherLogitCache;
  };
  try {
    for (const seed of seeds) {
      run.progress.info(`== (d) hypernetwork pretraining, seed ${seed} (${seeds.indexOf(seed) + 1}/${seeds.length})`);
      const pretrained = await pretrainHypernetStage(run, base, data, tok, seed);
      try {
        for (const v of variants) {
          run.progress.info(
            `== (e) hypernetwork finetuning: ${methodLabel(v.id)} (λ_kl ${v.lambdaKl}, λ_ins ${v.lambdaIns}${v.fusion ? `, fusion ${v.fusion}` : ''}${v.pretrained ? '' : ', no pretraining'}), seed ${seed}`,
          );
          const multitask = inputs.multitask(v);
          const fi = {
            ...(pretrained ? { pretrained } : {}),
            ...(multitask ? { multitask } : {}),
            ...(inputs.teachers ? { teachers: inputs.teachers } : {}),
            teacherCache: cacheOf(v),
          };
          out.push({ method: v.id, seed, hn: await finetuneHypernetStage(run, v, base, data, tok, fi, seed) });
        }
      } finally {
        pretrained?.dispose();
      }
    }
  } catch (e) {
    for (const h of out) h.hn.dispose();
    throw e;
  } finally {
    for (const c of caches.values()) c.dispose();
  }
  return out;
}

/** The shared part of demo and experiments: data, base, teachers (when λ_ins > 0), multitask. */
async function sharedStages(
  run: Run,
): Promise<{ data: TaskData; tok: Tok; base: BaseModel; teachers: Map<string, AdapterSet> | undefined; multitask: AdapterSet }> {
  const c = run.config;
  const { data, tok } = await dataAndTokenizer(run);
  run.progress.info(c.model === undefined ? '== (a) base model: pretraining a small T5' : '== (a) base model: given');
  const base = c.model === undefined ? await pretrainBase(run, data, tok) : await givenBase(run);
  run.progress.info('== (b) LoRA teachers and (c) the instruction-concatenated multitask baseline');
  const teachers = needsTeachers(c) ? await trainTeachers(run, base.model, data, tok) : undefined;
  const multitask = await trainMultitask(run, base.model, data, tok);
  return { data, tok, base, teachers, multitask };
}

type RunBody = (run: Run, backend: string, t0: number, load0: number[] | null) => Promise<void>;

const RUN_COMMANDS: Record<RunCommand, RunBody> = {
  async demo(run, backend, t0, load0) {
    const { data, tok, base, teachers, multitask } = await sharedStages(run);
    const hypernets = await trainHypernets(run, base, data, tok, demoVariants(run.config), { multitask: () => multitask, ...(teachers ? { teachers } : {}) });
    await report(run, { backend, t0, load0 }, data, tok, { model: base.model, multitask, hypernets }, demoPlan(run.config));
  },
  async experiment(run, backend, t0, load0) {
    const { data, tok, base, teachers, multitask } = await sharedStages(run);
    const variants = ablationVariants(run.config);
    const hypernets = await trainHypernets(run, base, data, tok, variants, { multitask: () => multitask, ...(teachers ? { teachers } : {}) });
    await report(
      run,
      { backend, t0, load0 },
      data,
      tok,
      { model: base.model, multitask, hypernets },
      {
        methods: [{ id: 'no-adapter' }, { id: 'multitask' }, ...variants.map((v) => ({ id: v.id }))],
        comparisons: [...variants.slice(1).map((v) => ({ a: v.id, b: 'tagi' })), { a: 'tagi', b: 'no-adapter' }],
        title: 'TAGI ablations (paper Table 4): each switch off against full TAGI (ROUGE-L / exact match ×100)',
      },
    );
  },
  async 'experiment-paper'(run, backend, t0, load0) {
    const c = run.config;
    const { data, tok, base, teachers, multitask } = await sharedStages(run);
    // the Def+2Pos setting: its own concatenated model (the prompt differs); the teachers read the input alone, shared
    const c2 = withNumPos(c, 2);
    const data2 = await loadTaskData(c2, (m) => run.progress.info(m));
    run.progress.info('== (c) the instruction-concatenated multitask baseline, Def+2Pos');
    const multitask2 = await trainMultitask(run, base.model, data2, tok, { stage: `multitask${DEF_2POS}`, dir: `${MULTITASK_DIR}${DEF_2POS}`, numPos: 2 });
    const variants = paperVariants(c);
    const hypernets = await trainHypernets(run, base, data, tok, variants, {
      multitask: (v) => (v.numPos === 2 ? multitask2 : multitask),
      ...(teachers ? { teachers } : {}),
    });
    run.checkStop();
    run.progress.info('== (f) evaluation: every method on every evaluation setting, Def then Def+2Pos');
    await run.beginStage('eval', 0);
    run.metrics.truncate('eval', 0);
    const te = performance.now();
    const twoPos = (h: HypernetEntry) => h.method.endsWith(DEF_2POS);
    const def = await evaluate(run, data, tok, { model: base.model, multitask, hypernets: hypernets.filter((h) => !twoPos(h)) });
    // the Def+2Pos rows are evaluated under their own ids' stems (so 'tagi' gets its controls), then renamed
    const stem = (h: HypernetEntry) => ({ ...h, method: h.method.slice(0, -DEF_2POS.length) });
    const two = await evaluate(run, data2, tok, { model: base.model, multitask: multitask2, hypernets: hypernets.filter(twoPos).map(stem) }, c2);
    const suffixed = <T extends { method: string }>(r: T): T => ({ ...r, method: `${r.method}${DEF_2POS}` });
    const references = new Set(data.references.map((r) => r.id));
    const evaluation = {
      records: [...def.records, ...two.records.filter((r) => !references.has(r.method)).map(suffixed)],
      predictions: [...def.predictions, ...two.predictions.map(suffixed)],
      costs: new Map([...def.costs, ...[...two.costs].map(([m, cost]) => [`${m}${DEF_2POS}`, cost] as const)]),
    };
    await finishReport(run, { backend, t0, load0 }, data, evaluation, paperPlan(c), te);
    for (const h of hypernets) h.hn.dispose();
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
    for (const seed of hypernetSeeds(run.config)) (await pretrainHypernetStage(run, base, data, tok, seed))?.dispose();
    await writeCurves(run.dir);
  },
  async finetune(run) {
    const c = run.config;
    const { data, tok } = await dataAndTokenizer(run);
    const base = await givenBase(run);
    const pretrained = c.hypernetDir === undefined ? undefined : await loadCheckedHypernet(c.hypernetDir, base.model);
    const multitask = c.adapter === undefined ? undefined : await loadCheckedAdapter(c.adapter, base.model);
    const teachers = c.teachersDir === undefined ? undefined : await loadTeachers(c.teachersDir, base.model);
    for (const seed of hypernetSeeds(c)) {
      for (const v of demoVariants(c)) {
        const inputs = { ...(pretrained ? { pretrained } : {}), ...(multitask && v.lambdaKl > 0 ? { multitask } : {}), ...(teachers ? { teachers } : {}) };
        (await finetuneHypernetStage(run, v, base, data, tok, inputs, seed)).dispose();
      }
    }
    await writeCurves(run.dir);
  },
  async eval(run, backend, t0, load0) {
    const c = run.config;
    if (isP3Dir(c.data)) return p3Eval(run, c.data); // --data P3_DIR: rank classification (p3-eval.ts)
    const { data, tok } = await dataAndTokenizer(run);
    const base = await givenBase(run);
    const models = await loadEvalModels(c, base.model);
    await report(run, { backend, t0, load0 }, data, tok, { model: base.model, ...models }, evalPlan(c));
  },
};

async function runTraining(inv: RunInvocation): Promise<void> {
  const t0 = performance.now();
  const load0 = loadAverage();
  const backend = await selectBackend(inv.config.backend, inv.io);
  const run = await Run.open(inv, runInputs(inv.command, inv.config));
  try {
    run.progress.info(`run dir: ${run.dir}${inv.resume ? ' (resuming)' : ''}`);
    if (inv.command !== 'demo' && inv.command.startsWith('experiment')) inv.io.stdout.write(`${expectedTimeLine(inv.config, inv.command)}\n`);
    if (inv.queue !== undefined) await (await import('../queue/commands.js')).runQueued(inv.command, run, backend, t0, load0, inv.queue);
    else await RUN_COMMANDS[inv.command](run, backend, t0, load0);
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
  else if (inv.command === 'worker') await (await import('../queue/worker.js')).runWorker(inv);
  else if (inv.command === 'push') await (await import('../hub/push.js')).push(inv);
  else await runTraining(inv);
}
