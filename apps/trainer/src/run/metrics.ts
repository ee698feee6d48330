// metrics.jsonl: one JSON object per log event, appended as training runs (readable while it runs).
// A resumed stage first cuts the file back to its checkpoint, so no step appears twice.
import { appendFileSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

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
    try {
      appendFileSync(this.file, `${JSON.stringify(e)}\n`);
    } catch (err) {
      // a failed write (ENOSPC, EIO) carries no path of its own: name the file
      if (err instanceof Error && (err as NodeJS.ErrnoException).path === undefined) (err as NodeJS.ErrnoException).path = this.file;
      throw err;
    }
  }

  /**
   * Drops what a stage logged after update `step` (everything from its first line past that step on;
   * with step 0, everything it logged), and a torn last line. Stages run one after another, so nothing
   * of another stage follows. Rewritten atomically (temp file + rename).
   */
  truncate(stage: string, step: number): void {
    // only a regular file is read back (a device or FIFO in its place — /dev/full, a pipe — is never rewritten)
    if (!existsSync(this.file) || !statSync(this.file).isFile()) return;
    const lines = readFileSync(this.file, 'utf8').split('\n');
    let keep = 0;
    for (const line of lines) {
      if (line.trim() === '') break;
      let e: MetricEvent;
      try {
        e = JSON.parse(line) as MetricEvent;
      } catch {
        break; // a line torn by a crash mid-write: it and anything after it go
      }
      if (e.stage === stage && (step === 0 || (e.event === undefined && e.step > step))) break;
      keep++;
    }
    if (keep === lines.filter((l) => l.trim() !== '').length) return;
    const tmp = path.join(path.dirname(this.file), `.${path.basename(this.file)}.tmp-${process.pid}`);
    writeFileSync(
      tmp,
      lines
        .slice(0, keep)
        .map((l) => `${l}\n`)
        .join(''),
    );
    renameSync(tmp, this.file);
  }
}

/** Reads metrics.jsonl; a torn last line (a crash mid-write) is skipped, other bad lines name their number. */
export function readMetrics(file: string): MetricEvent[] {
  if (!existsSync(file) || !statSync(file).isFile()) return [];
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
