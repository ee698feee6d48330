// `tagi eval --data P3_DIR`: T0-style rank classification on the held-out P3 datasets found in the
// directory (../shared/data/p3 layout: superglue/{CB,COPA,RTE,WiC,WSC}/val.jsonl, anli/anli_r{1,2,3}_dev.jsonl,
// promptsource/templates/), each rendered with T0's evaluation templates (original task, with answer
// choices). The score of a choice is the T5's log-likelihood of its tokens given the rendered prompt, so
// one scoring pass gives accuracy under both 'mean' (per token) and 'sum' scoring (@tagi/eval's rankReport).
//   No adapter:    the base model
//   --adapter:     base + the peft adapter
//   --hypernet:    base + the adapter (and instruction fusion) generated once per template from the
//                  template's text (the prompt with its slots, what the template asks), the student reading
//                  the rendered prompt — P3 has no instruction apart from its templates.
// Each method's report is printed and written as <run>/rank_results[-<method>].{json,md}.
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type ChoiceExample, InstructionInputs, T0_HELD_OUT, choiceExamples, t0EvalTemplates } from '@tagi/datasets';
import { loadP3Examples, loadPromptsourceTemplates, sharedP3File } from '@tagi/datasets/node';
import { type ChoiceScore, type ChoiceScorer, type RankReport, type TemplateAccuracy, rankReport, renderRankMarkdown, summarizeRank } from '@tagi/eval';
import { writeRankReport } from '@tagi/eval/node';
import { type HyperNetwork, type TaskAdapter, generateAdapter, taskForwardArgs } from '@tagi/hypernet';
import { type AdapterSet, collate, disposeBatch } from '@tagi/lora';
import type { EncoderLayerHook, T5ForConditionalGeneration } from '@tagi/t5-model';
import type { DeltaMap } from '@tagi/tensor-core';
import { type Tok, modelTokenizer } from '../data/tasks.js';
import { CliError } from '../common/errors.js';
import { loadBaseModel, loadCheckedAdapter, loadCheckedHypernet } from '../data/models.js';
import type { Run } from '../run/run.js';

/** The P3 examples of a directory: every T0 held-out dataset whose file is there, rendered with T0's templates. */
export interface P3EvalData {
  readonly examples: ChoiceExample[];
  /** Dataset names evaluated (ANLI rounds separately: anli_r1, anli_r2, anli_r3). */
  readonly datasets: string[];
  /** T0 held-out datasets without a file in this layout (HellaSwag, StoryCloze, Winogrande: user-provided). */
  readonly missing: string[];
  /** Rendered rows skipped by choiceExamples (template not applicable, …), by reason. */
  readonly skipped: Record<string, number>;
}

/** Reads the P3 directory: at most `limit` rows per dataset (file order), every T0 evaluation template applied to them. */
export async function loadP3EvalData(dir: string, opts: { limit: number; seed: number }): Promise<P3EvalData> {
  const templatesRoot = path.join(dir, 'promptsource', 'templates');
  const examples: ChoiceExample[] = [];
  const datasets: string[] = [];
  const missing: string[] = [];
  const skipped: Record<string, number> = {};
  for (const entry of T0_HELD_OUT) {
    const sources: { name: string; file: string }[] = [];
    if (entry.dataset === 'anli') for (const round of [1, 2, 3] as const) sources.push({ name: `anli_r${round}`, file: sharedP3File(dir, 'anli', { round }) });
    else {
      let file: string | undefined;
      try {
        file = sharedP3File(dir, entry.dataset);
      } catch {
        file = undefined; // not part of the shared layout (HellaSwag, StoryCloze, Winogrande)
      }
      if (file !== undefined) sources.push({ name: entry.dataset, file });
    }
    const present = sources.filter((s) => existsSync(s.file));
    if (present.length === 0) {
      missing.push(entry.dataset);
      continue;
    }
    const templates = t0EvalTemplates(await loadPromptsourceTemplates(templatesRoot, entry.templates));
    if (templates.length === 0)
      throw new CliError(
        `--data: ${path.join(templatesRoot, entry.templates, 'templates.yaml')} has no T0 evaluation template (original_task with answer_choices)`,
      );
    for (const s of present) {
      const rows = await loadP3Examples(entry.dataset, s.file, { limit: opts.limit });
      for (const t of templates) {
        const r = choiceExamples(t, rows, { seed: opts.seed, idPrefix: s.name });
        examples.push(...r.examples.map((e) => ({ ...e, dataset: s.name })));
        for (const [k, v] of Object.entries(r.skips.reasons)) skipped[k] = (skipped[k] ?? 0) + v;
      }
      datasets.push(s.name);
    }
  }
  if (examples.length === 0)
    throw new CliError(
      `--data: '${dir}' holds no P3 evaluation file of the shared layout (superglue/<CB|COPA|RTE|WiC|WSC>/val.jsonl, anli/anli_r<1-3>_dev.jsonl)`,
    );
  return { examples, datasets, missing, skipped };
}

/** What the student reads besides its input ids, for `batch` rows (new tensors, disposed by the scorer). */
export type ForwardExtras = (batch: number) => {
  adapters?: DeltaMap;
  encoderPrefix?: { states: tf.Tensor3D; mask: tf.Tensor2D };
  encoderLayerHook?: EncoderLayerHook;
};

/**
 * The rank-classification scorer of a T5: for every (input, choice) pair the sum of log p(choice token)
 * over the choice's tokens (and their count), inputs cut to `maxSourceLength` and choices to
 * `maxTargetLength` tokens (eos kept). `extras` adds an adapter and instruction fusion.
 */
export function t5ChoiceScorer(
  model: T5ForConditionalGeneration,
  tok: Tok,
  opts: { maxSourceLength: number; maxTargetLength: number; batchSize: number; extras?: ForwardExtras },
): ChoiceScorer {
  const ids = new Map<string, number[]>();
  const encode = (text: string, maxLength: number) => {
    const key = `${maxLength}\u0000${text}`;
    let v = ids.get(key);
    if (v === undefined) ids.set(key, (v = tok.encode(text, { maxLength })));
    return v;
  };
  return async (inputs, choices) => {
    const pairs = inputs.flatMap((input, i) =>
      (choices[i] as readonly string[]).map((choice) => ({ input: encode(input, opts.maxSourceLength), target: encode(choice, opts.maxTargetLength) })),
    );
    const scores: ChoiceScore[] = [];
    for (let s = 0; s < pairs.length; s += opts.batchSize) {
      const chunk = pairs.slice(s, s + opts.batchSize);
      const b = collate(chunk, tok.padTokenId);
      const extra = opts.extras?.(chunk.length) ?? {};
      let encoderOutputs: tf.Tensor3D | undefined;
      try {
        // a per-layer fusion hook runs inside the encoder: encode here and hand the states to the scorer
        if (extra.encoderLayerHook) encoderOutputs = model.encode(b.inputIds, b.attentionMask, extra.adapters, undefined, extra.encoderLayerHook);
        const r = await model.scoreTargets({
          inputIds: b.inputIds,
          attentionMask: b.attentionMask,
          labels: b.labels,
          ...(extra.adapters ? { adapters: extra.adapters } : {}),
          ...(extra.encoderPrefix ? { encoderPrefix: extra.encoderPrefix } : {}),
          ...(encoderOutputs ? { encoderOutputs } : {}),
        });
        r.sum.forEach((sum, k) => scores.push({ sum, tokens: r.tokens[k] as number }));
      } finally {
        disposeBatch(b);
        if (extra.encoderPrefix) tf.dispose([extra.encoderPrefix.states, extra.encoderPrefix.mask]);
        if (encoderOutputs) encoderOutputs.dispose();
      }
    }
    let k = 0;
    return choices.map((cs) => cs.map(() => scores[k++] as ChoiceScore));
  };
}

/**
 * rankReport over examples whose scorer depends on their (dataset, template) — a generated adapter per
 * template: one rankReport per template with its scorer, then the per-dataset and average summary over
 * all of them (summarizeRank). With one scorer for every template it equals rankReport on all examples.
 */
export async function rankReportByTemplate(
  examples: readonly ChoiceExample[],
  scorerFor: (dataset: string, template: string) => Promise<{ scorer: ChoiceScorer; release?: () => void }>,
  batchSize: number,
): Promise<RankReport> {
  const groups = new Map<string, ChoiceExample[]>();
  for (const e of examples) {
    const key = `${e.dataset}\u0000${e.template}`;
    const list = groups.get(key) ?? [];
    list.push(e);
    groups.set(key, list);
  }
  const templates: TemplateAccuracy[] = [];
  const byDataset: Record<string, number> = {};
  let unlabelled = 0;
  for (const group of groups.values()) {
    const first = group[0] as ChoiceExample;
    const dataset = first.dataset as string;
    const labelled = group.filter((e) => e.label !== -1).length;
    if (labelled < group.length) {
      unlabelled += group.length - labelled;
      byDataset[dataset] = (byDataset[dataset] ?? 0) + group.length - labelled;
    }
    if (labelled === 0) continue;
    const { scorer, release } = await scorerFor(dataset, first.template as string);
    try {
      const r = await rankReport(
        group.map((e) => ({ input: e.input, choices: e.choices, label: e.label, dataset, template: e.template as string })),
        scorer,
        { batchSize },
      );
      templates.push(...r.templates);
    } finally {
      release?.();
    }
  }
  if (templates.length === 0) throw new CliError('--data: every P3 example is unlabelled (label -1); nothing to score');
  return { ...summarizeRank(templates), skipped: { unlabelled, byDataset } };
}

/**
 * The hypernetwork's instruction for each (dataset, template) of `datasets`: the template's prompt part
 * with its slots unfilled, and its answer choices — what the template asks, without an instance.
 */
export async function templateInstructions(dir: string, datasets: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const root = path.join(dir, 'promptsource', 'templates');
  for (const entry of T0_HELD_OUT) {
    const names = datasets.filter((d) => d === entry.dataset || (entry.dataset === 'anli' && d.startsWith('anli_r')));
    if (names.length === 0) continue;
    for (const t of t0EvalTemplates(await loadPromptsourceTemplates(root, entry.templates))) {
      const text = `${(t.jinja.split('|||')[0] ?? t.jinja).trim()}${t.answerChoices ? `\nAnswer choices: ${t.answerChoices}` : ''}`;
      for (const name of names) out.set(`${name}\u0000${t.name}`, text);
    }
  }
  return out;
}

/** The instruction of one (dataset, template) from templateInstructions' map. */
export function templateInstruction(instructions: ReadonlyMap<string, string>, dataset: string, template: string): string {
  const text = instructions.get(`${dataset}\u0000${template}`);
  if (text === undefined) throw new CliError(`no promptsource template '${template}' for ${dataset}`);
  return text;
}

const pct = (n: number | undefined) => (n === undefined ? '–' : n.toFixed(1));

/** The body of `tagi eval` when --data is a P3 directory. */
export async function p3Eval(run: Run, dir: string): Promise<void> {
  const c = run.config;
  const tok = modelTokenizer(c.model);
  const model = await loadBaseModel(c.model as string);
  const mc = model.config;
  run.progress.info(`base T5: d_model ${mc.dModel}, ${mc.numLayers}+${mc.numDecoderLayers} layers, vocab ${mc.vocabSize} (${c.model}); frozen`);
  const data = await loadP3EvalData(dir, { limit: c.prompt.maxEvalInstancesPerTask, seed: c.seed });
  const skipped = Object.entries(data.skipped).map(([k, v]) => `${v} ${k}`);
  run.progress.info(
    `data: P3 ${dir}: ${data.datasets.join(', ')} (≤ ${c.prompt.maxEvalInstancesPerTask} rows each, prompt.max-eval-instances-per-task), ` +
      `${new Set(data.examples.map((e) => `${e.dataset}/${e.template}`)).size} dataset × template pairs, ${data.examples.length} examples` +
      `${skipped.length > 0 ? `; skipped: ${skipped.join(', ')}` : ''}${data.missing.length > 0 ? `; not in this directory: ${data.missing.join(', ')}` : ''}`,
  );
  const multitask: AdapterSet | undefined = c.adapter === undefined ? undefined : await loadCheckedAdapter(c.adapter, model);
  const hn: HyperNetwork | undefined = c.hypernetDir === undefined ? undefined : await loadCheckedHypernet(c.hypernetDir, model);
  const instructions = hn ? await templateInstructions(dir, data.datasets) : new Map<string, string>();
  const scoring = { maxSourceLength: c.prompt.maxSourceLength, maxTargetLength: c.prompt.maxTargetLength, batchSize: c.eval.batchSize };
  const methods: { id: string; label: string; scorerFor: Parameters<typeof rankReportByTemplate>[1] }[] = [
    { id: 'no-adapter', label: 'No adapter', scorerFor: async () => ({ scorer: t5ChoiceScorer(model, tok, scoring) }) },
  ];
  if (multitask)
    methods.push({
      id: 'multitask',
      label: 'Adapter (--adapter)',
      scorerFor: async () => ({ scorer: t5ChoiceScorer(model, tok, { ...scoring, extras: () => ({ adapters: multitask.deltas }) }) }),
    });
  if (hn) {
    const inputs = new InstructionInputs(tok, { ...c.prompt, numPos: 0, maxInstructionLength: hn.config.maxInstructionLength });
    methods.push({
      id: 'tagi',
      label: 'Hypernetwork (--hypernet)',
      scorerFor: async (dataset, template) => {
        await run.yieldAndCheckStop('during evaluation (it keeps no checkpoint: it runs again from its beginning)');
        const task: TaskAdapter = generateAdapter(hn, inputs.instructionIds(templateInstruction(instructions, dataset, template))); // once per template
        return { scorer: t5ChoiceScorer(model, tok, { ...scoring, extras: (n) => taskForwardArgs(task, n) }), release: () => task.dispose() };
      },
    });
  }
  run.checkStop();
  run.progress.info('== rank classification on the P3 held-out datasets (mean and sum of log-likelihood per choice)');
  await run.beginStage('eval', 0);
  const t0 = performance.now();
  const summary: Record<string, number> = {};
  const reports: { id: string; report: RankReport }[] = [];
  for (const m of methods) {
    const report = await rankReportByTemplate(
      data.examples,
      async (d, t) => {
        await run.yieldAndCheckStop('during evaluation (it keeps no checkpoint: it runs again from its beginning)');
        return m.scorerFor(d, t);
      },
      c.eval.batchSize,
    );
    reports.push({ id: m.id, report });
    summary[`${m.id}.mean`] = Number((report.average.median.mean ?? 0).toFixed(2));
    summary[`${m.id}.sum`] = Number((report.average.median.sum ?? 0).toFixed(2));
    run.progress.info(`\n${renderRankMarkdown(report, { title: `${m.label}: rank classification accuracy (%)` })}`);
    run.progress.info(
      `  ${m.label}: average over datasets of the median over templates: ${pct(report.average.median.mean)} (mean scoring), ${pct(report.average.median.sum)} (sum scoring)`,
    );
  }
  // written only once every method is scored: a stopped evaluation leaves no partial report
  const written: string[] = [];
  for (const { id, report } of reports) {
    const meta = {
      method: id,
      model: c.model,
      data: dir,
      preset: c.preset,
      seed: c.seed,
      rowsPerDataset: c.prompt.maxEvalInstancesPerTask,
      ...(id === 'multitask' ? { adapter: c.adapter } : {}),
      ...(id === 'tagi' ? { hypernet: c.hypernetDir } : {}),
    };
    const files = await writeRankReport(run.dir, report, {
      basename: id === 'no-adapter' ? 'rank_results' : `rank_results-${id}`,
      meta,
      markdown: { title: `${methods.find((m) => m.id === id)?.label}: rank classification accuracy (%)` },
    });
    written.push(path.basename(files.json), path.basename(files.markdown));
  }
  multitask?.dispose();
  hn?.dispose();
  await run.finishStage('eval', { summary, seconds: (performance.now() - t0) / 1000 });
  run.progress.info(`wrote ${run.dir}/{${written.join(', ')}}`);
}
