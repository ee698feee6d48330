// The results table in the shape of the paper's Table 2: rows = methods, columns = held-out ROUGE-L,
// exact match and measured relative inference cost. Rows of unavailable stages say so; nothing is filled in.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '@tagi/tensor-core/node';
import { readMetrics } from './metrics.js';
import { trainingCurvesSvg } from './plot.js';
import { stableJson } from './config.js';

export const METHOD_ROWS = [
  { id: 'no-adapter', label: 'No adapter' },
  { id: 'multitask', label: 'Instruction-concatenated multitask' },
  { id: 'hint', label: 'Hypernet w/o distillation (HINT-like)' },
  { id: 'tagi', label: 'TAGI' },
] as const;
export type MethodId = (typeof METHOD_ROWS)[number]['id'];

export interface MethodResult {
  method: MethodId;
  label: string;
  status: 'ok' | 'unavailable';
  /** Why the row has no numbers. */
  reason?: string;
  rougeL?: number;
  exactMatch?: number;
  /** Per-instance inference wall clock, ms (adapter generation amortised over the task's instances). */
  msPerInstance?: number;
  /** FLOPs estimate per instance. */
  flopsPerInstance?: number;
  /** Relative to the instruction-concatenated multitask model (the paper's reference, ×1.00). */
  relWallClock?: number;
  relFlops?: number;
  instances?: number;
  tasks?: number;
  /** Per held-out category / reason breakdown. */
  groups?: Record<string, { rougeL: number; exactMatch: number; n: number }>;
}

export interface Results {
  preset: string;
  backend: string;
  seed: number;
  heldOutTasks: number;
  heldOutInstances: number;
  wallClockSeconds: number;
  /** The run's finished stages in order, with the seconds each took. */
  stages: { id: string; seconds?: number }[];
  methods: MethodResult[];
}

/** Held-out reasons of the embedded suite, as table headers. */
const GROUP_LABELS: Record<string, string> = { category: 'unseen category', parameter: 'unseen parameter' };

function f(x: number | undefined, digits = 2): string {
  return x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);
}

export function resultsMarkdown(r: Results): string {
  const lines = [
    `| Method | ROUGE-L | EM | Rel. cost (wall clock) | Rel. cost (FLOPs) |`,
    `|---|---:|---:|---:|---:|`,
  ];
  for (const m of r.methods) {
    if (m.status !== 'ok') lines.push(`| ${m.label} | unavailable | unavailable | — | — |`);
    else lines.push(`| ${m.label} | ${f(m.rougeL)} | ${f(m.exactMatch)} | ×${f(m.relWallClock)} | ×${f(m.relFlops)} |`);
  }
  const groupNames = [...new Set(r.methods.flatMap((m) => Object.keys(m.groups ?? {})))].sort();
  if (groupNames.length > 1) {
    lines.push('', `| Method | ${groupNames.map((g) => `ROUGE-L / EM (${GROUP_LABELS[g] ?? g})`).join(' | ')} |`, `|---|${groupNames.map(() => '---:').join('|')}|`);
    for (const m of r.methods) {
      if (m.status !== 'ok') continue;
      lines.push(`| ${m.label} | ${groupNames.map((g) => (m.groups?.[g] ? `${f(m.groups[g].rougeL)} / ${f(m.groups[g].exactMatch)} (n=${m.groups[g].n})` : '—')).join(' | ')} |`);
    }
  }
  const notes = r.methods.filter((m) => m.status !== 'ok').map((m) => `- ${m.label}: ${m.reason ?? 'unavailable'}`);
  return [
    `Held-out tasks: ${r.heldOutTasks} (${r.heldOutInstances} instances); preset ${r.preset}, backend ${r.backend}, seed ${r.seed}; wall time ${f(r.wallClockSeconds / 60, 1)} min.`,
    'Relative cost: per-instance inference against the instruction-concatenated model (×1.00); hypernet rows include generating each task\'s adapter once.',
    '',
    ...lines,
    ...(notes.length > 0 ? ['', 'Unavailable:', ...notes] : []),
    '',
  ].join('\n');
}

export async function writeResults(runDir: string, r: Results): Promise<void> {
  await writeFileAtomic(path.join(runDir, 'results.json'), stableJson(r));
  await writeFileAtomic(path.join(runDir, 'results.md'), resultsMarkdown(r));
  await writeCurves(runDir);
}

export async function writeCurves(runDir: string): Promise<void> {
  const events = readMetrics(path.join(runDir, 'metrics.jsonl'));
  await writeFileAtomic(path.join(runDir, 'curves.svg'), trainingCurvesSvg(events, `TAGI training curves — ${path.basename(runDir)}`));
}

export function readResults(runDir: string): Results | undefined {
  const file = path.join(runDir, 'results.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Results) : undefined;
}
