// The demo's stages in order, and the state they pass along.
import type { Invocation } from '../main.js';
import type { PipelineStage, StageOutcome } from '../pipeline.js';
import { METHOD_ROWS, type MethodId, type MethodResult } from '../results.js';
import { type TaskData, type Tok, loadTaskData, modelTokenizer, prunedTokenizer } from './data.js';
import { StageUnavailableError } from '../errors.js';
import type { T5ForConditionalGeneration } from '@tagi/t5-model';
import { baseStage } from './base.js';
import type { AdapterSet } from '@tagi/lora';
import type { HyperNetwork } from '@tagi/hypernet';
import type { RunContext } from '../run.js';
import { MULTITASK_DIR, TEACHERS_DIR, multitaskStage, teacherGroup, teachersStage } from './adapters.js';
import { HYPERNET_PRETRAINED_DIR, type FinetuneInputs, hypernetDir, hypernetFinetuneStage, hypernetPretrainStage } from './hypernet.js';
import { evalStage } from './evaluate.js';
import { generateStage, loadGiven } from './generate.js';

export interface DemoState {
  readonly backend: string;
  readonly inv: Invocation;
  data?: TaskData;
  tokenizer?: Tok;
  model?: T5ForConditionalGeneration;
  modelDir?: string;
  teachers?: Map<string, AdapterSet>;
  multitask?: AdapterSet;
  pretrained?: HyperNetwork;
  hypernets: Partial<Record<'tagi' | 'hint', HyperNetwork>>;
  /** Filled by later stages (model, adapters, hypernets) — typed where they are wired. */
  artefacts: Map<string, unknown>;
  results: Map<MethodId, MethodResult>;
  heldOutTaskCount: number;
  heldOutInstanceCount: number;
  unavailableReason(method: MethodId, outcomes: readonly StageOutcome[]): string;
}

/** Which stage each results row comes from. */
const METHOD_STAGE: Record<MethodId, string[]> = {
  'no-adapter': ['base', 'eval'],
  multitask: ['multitask', 'eval'],
  hint: ['hint', 'eval'],
  tagi: ['tagi', 'eval'],
};

export function newDemoState(backend: string, inv: Invocation): DemoState {
  return {
    backend,
    inv,
    artefacts: new Map(),
    hypernets: {},
    results: new Map(),
    heldOutTaskCount: 0,
    heldOutInstanceCount: 0,
    unavailableReason(method, outcomes) {
      for (const id of METHOD_STAGE[method]) {
        const o = outcomes.find((x) => x.id === id);
        if (o === undefined) return `stage ${id} not run by this command`;
        if (o.status === 'unavailable') return `stage ${id} unavailable: ${o.reason ?? ''}`;
      }
      return 'not evaluated';
    },
  };
}

function need<T>(x: T | undefined, what: string): T {
  if (x === undefined) throw new StageUnavailableError(what, [`${what} (produced by an earlier stage)`]);
  return x;
}

function finetuneInputs(ctx: RunContext, s: DemoState): FinetuneInputs {
  return {
    ...(s.pretrained ? { pretrained: s.pretrained } : {}),
    ...(s.teachers ? { teachers: s.teachers } : {}),
    ...(s.multitask ? { multitask: s.multitask } : {}),
    groupOf: (t) => teacherGroup(ctx, t),
  };
}

export const STAGES: PipelineStage<DemoState>[] = [
  {
    id: 'data',
    title: 'data: embedded task suite, tokenizer',
    requires: { '@tagi/datasets': ['embeddedSuite', 'tagiExamples', 'suiteTexts'], '@tagi/t5-model': ['buildVocabMap', 'PrunedTokenizer'] },
    after: [],
    async run(ctx, s) {
      const data = await loadTaskData(ctx);
      s.data = data;
      const fromScratch = ctx.config.model === undefined;
      s.tokenizer = fromScratch && ctx.config.base.pruneVocab ? prunedTokenizer(data) : modelTokenizer(ctx.config.model);
      s.heldOutTaskCount = data.heldOut.length;
      s.heldOutInstanceCount = data.heldOutExamples.length;
      ctx.progress.info(
        `  ${data.train.length} training tasks (${data.trainExamples.length} instances), ${data.heldOut.length} held-out tasks (${data.heldOutExamples.length} instances); vocabulary ${s.tokenizer.vocabSize} ids`,
      );
      return { summary: { trainTasks: data.train.length, heldOutTasks: data.heldOut.length, vocab: s.tokenizer.vocabSize } };
    },
  },
  {
    id: 'base',
    title: '(a) base model',
    requires: { '@tagi/t5-model': ['T5ForConditionalGeneration', 'createRandomT5', 'makeT5Config'] },
    after: ['data'],
    async run(ctx, s, done) {
      const r = await baseStage(ctx, s.data as TaskData, s.tokenizer as Tok, done);
      s.model = r.model;
      s.modelDir = r.dir;
      const c = r.model.config;
      ctx.progress.info(`  base T5: d_model ${c.dModel}, ${c.numLayers}+${c.numDecoderLayers} layers, vocab ${c.vocabSize} (${r.dir}); frozen`);
      return { outputs: { model: r.dir }, summary: r.summary };
    },
  },
  {
    id: 'load',
    title: 'load the given hypernet / adapter / teachers',
    requires: { '@tagi/hypernet': ['HyperNetwork'] },
    after: ['base'],
    skip: (ctx) => (ctx.config.hypernetDir === undefined && ctx.config.adapter === undefined && ctx.config.teachersDir === undefined ? 'nothing given' : undefined),
    async run(ctx, s) {
      const r = await loadGiven(ctx, need(s.model, 'model'));
      if (r.hypernet) {
        if (s.inv.command === 'finetune') s.pretrained = r.hypernet;
        else s.hypernets.tagi = r.hypernet;
      }
      if (r.adapter) s.multitask = r.adapter;
      if (r.teachers) s.teachers = r.teachers;
    },
  },
  {
    id: 'teachers',
    title: '(b) LoRA teachers per category',
    requires: { '@tagi/lora': ['AdapterSet', 'loraConfig'] },
    after: ['base'],
    skip: (ctx) => (ctx.config.teachersDir !== undefined ? 'using --teachers-dir' : undefined),
    async run(ctx, s, done) {
      const teachers = await teachersStage(ctx, need(s.model, 'model'), need(s.data, 'data'), need(s.tokenizer, 'tokenizer'), done);
      s.teachers = teachers;
      return { outputs: { teachers: TEACHERS_DIR }, summary: { teachers: teachers.size } };
    },
  },
  {
    id: 'multitask',
    title: '(c) instruction-concatenated multitask baseline (Tk-Instruct analogue)',
    requires: { '@tagi/lora': ['AdapterSet', 'loraConfig'] },
    after: ['base'],
    skip: (ctx) => (ctx.config.adapter !== undefined ? 'using --adapter' : undefined),
    async run(ctx, s, done) {
      s.multitask = await multitaskStage(ctx, need(s.model, 'model'), need(s.data, 'data'), need(s.tokenizer, 'tokenizer'), done);
      return { outputs: { adapter: MULTITASK_DIR } };
    },
  },
  {
    id: 'hypernet-pretrain',
    title: '(d) hypernetwork pretraining (stage 2)',
    requires: { '@tagi/hypernet': ['HyperNetwork', 'pretrainHypernet'] },
    after: ['base'],
    async run(ctx, s, done) {
      s.pretrained = await hypernetPretrainStage(ctx, need(s.model, 'model'), s.modelDir ?? '', need(s.data, 'data'), need(s.tokenizer, 'tokenizer'), done);
      return { outputs: { hypernet: HYPERNET_PRETRAINED_DIR } };
    },
  },
  {
    id: 'tagi',
    title: '(e) hypernetwork finetuning: TAGI (CE + KD + parameter alignment)',
    requires: { '@tagi/hypernet': ['HyperNetwork', 'finetuneHypernet'] },
    after: ['hypernet-pretrain', 'teachers', 'multitask'],
    async run(ctx, s, done) {
      s.hypernets.tagi = await hypernetFinetuneStage(ctx, 'tagi', need(s.model, 'model'), s.modelDir ?? '', need(s.data, 'data'), need(s.tokenizer, 'tokenizer'), finetuneInputs(ctx, s), done);
      return { outputs: { hypernet: hypernetDir('tagi') } };
    },
  },
  {
    id: 'hint',
    title: '(e) hypernetwork finetuning: CE only (HINT-like)',
    requires: { '@tagi/hypernet': ['HyperNetwork', 'finetuneHypernet'] },
    after: ['hypernet-pretrain'],
    async run(ctx, s, done) {
      s.hypernets.hint = await hypernetFinetuneStage(ctx, 'hint', need(s.model, 'model'), s.modelDir ?? '', need(s.data, 'data'), need(s.tokenizer, 'tokenizer'), finetuneInputs(ctx, s), done);
      return { outputs: { hypernet: hypernetDir('hint') } };
    },
  },
  {
    id: 'eval',
    title: '(f) evaluation on held-out tasks',
    requires: { '@tagi/eval': ['computeMetrics', 'computeGroupedMetrics', 'concatenatedInstanceFlops', 'adapterInstanceCost'], '@tagi/hypernet': ['generateAdapter', 'generateWithTask'] },
    after: ['base'],
    async run(ctx, s) {
      // evaluation always re-runs (it is cheap next to training and its timings are per process)
      const r = await evalStage(ctx, need(s.data, 'data'), need(s.tokenizer, 'tokenizer'), {
        model: need(s.model, 'model'),
        ...(s.multitask ? { multitask: s.multitask } : {}),
        hypernets: s.hypernets,
      });
      for (const [k, v] of r) s.results.set(k, v);
      return { summary: Object.fromEntries([...r].map(([k, v]) => [k, Number((v.rougeL ?? 0).toFixed(2))])) };
    },
  },
  {
    id: 'generate',
    title: 'generate: instruction → peft adapter',
    requires: { '@tagi/hypernet': ['generateAdapter'] },
    after: ['base'],
    async run(ctx, s) {
      await generateStage(ctx, need(s.model, 'model'), need(s.tokenizer, 'tokenizer'));
    },
  },
];

export { METHOD_ROWS };
