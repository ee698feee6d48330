// Progress reporting: a redrawn bar on a TTY (step, loss terms, tokens/s, ETA), plain log lines
// otherwise (CI, pipes, tests). Every logged event also goes to metrics.jsonl.
import type { MetricsWriter } from './metrics.js';

export interface ProgressSink {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface StepReport {
  step: number;
  losses: Record<string, number>;
  lr?: number;
  tokens?: number;
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '?';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

function fmtNum(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1000 || a < 1e-3 ? x.toExponential(2) : x.toPrecision(4);
}

export function formatLosses(losses: Record<string, number>): string {
  return Object.entries(losses)
    .map(([k, v]) => `${k}=${fmtNum(v)}`)
    .join(' ');
}

export class Progress {
  private stage = '';
  private label = '';
  private total = 0;
  private startStep = 0;
  private started = 0;
  private tokens = 0;
  private lastDraw = 0;
  private barVisible = false;
  readonly tty: boolean;

  constructor(
    private readonly out: ProgressSink,
    private readonly metrics?: MetricsWriter,
    opts: { tty?: boolean; logEvery?: number } = {},
  ) {
    this.tty = opts.tty ?? out.isTTY === true;
    this.logEvery = opts.logEvery ?? 10;
  }

  logEvery: number;

  /** A message line (clears the bar first). */
  info(msg: string): void {
    this.clearBar();
    this.out.write(`${msg}\n`);
  }

  /** `stage` names the stage in metrics.jsonl; `label` is what the terminal shows (default: the name). */
  startStage(stage: string, totalSteps: number, startStep = 0, label = stage): void {
    this.clearBar();
    this.stage = stage;
    this.label = label;
    this.total = totalSteps;
    this.startStep = startStep;
    this.started = performance.now();
    this.tokens = 0;
    this.info(`[${label}] ${startStep > 0 ? `resuming at step ${startStep}/${totalSteps}` : `${totalSteps} steps`}`);
  }

  /** Called after every optimiser update. */
  step(r: StepReport): void {
    this.tokens += r.tokens ?? 0;
    const elapsed = (performance.now() - this.started) / 1000;
    const done = r.step - this.startStep;
    const tokensPerSec = elapsed > 0 ? this.tokens / elapsed : 0;
    const eta = done > 0 ? (elapsed / done) * (this.total - r.step) : Number.NaN;
    const isLog = r.step % this.logEvery === 0 || r.step === this.total;
    if (isLog) {
      this.metrics?.write({
        stage: this.stage,
        step: r.step,
        totalSteps: this.total,
        losses: r.losses,
        ...(r.lr !== undefined ? { lr: r.lr } : {}),
        tokensPerSec: Math.round(tokensPerSec),
        time: new Date().toISOString(),
        elapsed: Math.round(elapsed * 1000) / 1000,
      });
    }
    if (this.tty) {
      const now = performance.now();
      if (now - this.lastDraw < 100 && r.step !== this.total) return;
      this.lastDraw = now;
      const width = 24;
      const frac = this.total > 0 ? Math.min(1, r.step / this.total) : 1;
      const filled = Math.round(frac * width);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
      let line = `[${this.label}] ${bar} ${r.step}/${this.total} ${formatLosses(r.losses)} ${Math.round(tokensPerSec)} tok/s ETA ${formatDuration(eta)}`;
      const cols = this.out.columns ?? 120;
      if (line.length > cols - 1) line = line.slice(0, cols - 1);
      this.out.write(`\r\x1b[2K${line}`);
      this.barVisible = true;
    } else if (isLog) {
      this.out.write(
        `[${this.label}] step ${r.step}/${this.total} ${formatLosses(r.losses)}${r.lr !== undefined ? ` lr=${fmtNum(r.lr)}` : ''} ${Math.round(tokensPerSec)} tok/s ETA ${formatDuration(eta)}\n`,
      );
    }
  }

  /** Non-step events (eval results, checkpoints) go to metrics.jsonl too. */
  event(event: string, data: Record<string, unknown>, stage = this.stage): void {
    this.metrics?.write({ stage, step: -1, losses: {}, time: new Date().toISOString(), event, ...data });
  }

  endStage(summary?: string): void {
    this.clearBar();
    const elapsed = (performance.now() - this.started) / 1000;
    this.info(`[${this.label}] done in ${formatDuration(elapsed)}${summary ? `: ${summary}` : ''}`);
  }

  private clearBar(): void {
    if (this.barVisible) {
      this.out.write('\r\x1b[2K');
      this.barVisible = false;
    }
  }
}
