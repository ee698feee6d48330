// metrics.jsonl: one JSON object per log event, appended as training runs (readable while it runs).
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

export interface MetricEvent {
  /** Pipeline stage ('base', 'teachers/<category>', 'multitask', 'hypernet-pretrain', ...). */
  stage: string;
  /** Optimiser update (1-based count of updates done). */
  step: number;
  totalSteps?: number;
  /** Every loss term by name ('loss', 'ce', 'kl', 'ins', ...). */
  losses: Record<string, number>;
  lr?: number;
  tokensPerSec?: number;
  /** ISO time of the event. */
  time: string;
  /** Seconds since the stage started (this process). */
  elapsed?: number;
  /** Other events: 'eval', 'checkpoint', 'stage-end', ... */
  event?: string;
  [extra: string]: unknown;
}

export class MetricsWriter {
  constructor(readonly file: string) {}
  write(e: MetricEvent): void {
    appendFileSync(this.file, `${JSON.stringify(e)}\n`);
  }
}

/** Reads metrics.jsonl; a torn last line (a crash mid-write) is skipped, other bad lines name their number. */
export function readMetrics(file: string): MetricEvent[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: MetricEvent[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line) as MetricEvent);
    } catch {
      if (i < lines.length - 2) throw new Error(`${file}:${i + 1}: not a JSON line`);
    }
  });
  return out;
}
