import { describe, expect, it } from 'vitest';
import type { MetricEvent } from '../run/metrics.js';
import { seriesFromMetrics, trainingCurvesSvg } from './plot.js';
import { Progress, formatDuration } from '../run/progress.js';

const ev = (stage: string, step: number, losses: Record<string, number>, event?: string): MetricEvent => ({
  stage,
  step,
  losses,
  time: '2026-01-01T00:00:00.000Z',
  ...(event ? { event } : {}),
});

describe('training curves SVG', () => {
  it('sub-stages of a family share a panel, laid end to end; gradNorm is not drawn', () => {
    const s = seriesFromMetrics([
      ev('teachers/a (1/2)', 1, { loss: 3, gradNorm: 9 }),
      ev('teachers/a (1/2)', 2, { loss: 2 }),
      ev('teachers/b (2/2)', 1, { loss: 5 }),
    ]);
    expect(s).toEqual([
      {
        stage: 'teachers',
        term: 'loss',
        points: [
          [1, 3],
          [2, 2],
          [3, 5],
        ],
      },
    ]);
  });

  it('one series per stage and loss term, events excluded, steps sorted', () => {
    const s = seriesFromMetrics([
      ev('a', 2, { loss: 1, ce: 0.5 }),
      ev('a', 1, { loss: 2, ce: 1 }),
      ev('b', 1, { loss: 3 }),
      ev('a', -1, { x: 1 }, 'checkpoint'),
    ]);
    expect(s.map((x) => `${x.stage}/${x.term}`)).toEqual(['a/loss', 'a/ce', 'b/loss']);
    expect(s[0]!.points).toEqual([
      [1, 2],
      [2, 1],
    ]);
  });

  it('is well-formed SVG with a path per series and escaped labels', () => {
    const svg = trainingCurvesSvg([ev('a<x>', 1, { loss: 2 }), ev('a<x>', 2, { loss: 1 }), ev('tagi', 1, { kl: 0.3, ce: 1 })], 'T & C');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<path /g)?.length).toBe(3);
    expect(svg).toContain('a&lt;x&gt;');
    expect(svg).toContain('T &amp; C');
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it('an empty log still gives a valid picture', () => {
    expect(trainingCurvesSvg([])).toContain('no training steps logged');
  });
});

describe('progress', () => {
  it('plain lines every logEvery steps off a TTY, metrics for each logged step', () => {
    let out = '';
    const logged: MetricEvent[] = [];
    const p = new Progress({ write: (s: string) => (out += s) }, { write: (e: MetricEvent) => logged.push(e) } as never, { tty: false, logEvery: 2 });
    p.startStage('base', 4);
    for (let i = 1; i <= 4; i++) p.step({ step: i, losses: { loss: 1 / i }, tokens: 10, lr: 0.1 });
    p.endStage();
    expect(logged.map((e) => e.step)).toEqual([2, 4]);
    expect(out).toMatch(/\[base\] step 2\/4 loss=0\.5000 lr=0\.1000/);
    expect(out).not.toMatch(/\r/);
  });

  it('redraws a bar on a TTY', () => {
    let out = '';
    const p = new Progress({ write: (s: string) => (out += s), isTTY: true, columns: 200 }, undefined, { logEvery: 100 });
    p.startStage('tagi', 2);
    p.step({ step: 2, losses: { loss: 1, kl: 0.2 }, tokens: 5 });
    expect(out).toMatch(/\r\x1b\[2K\[tagi\] █+ 2\/2 loss=1\.000 kl=0\.2000/);
  });

  it('formats durations', () => {
    expect(formatDuration(5)).toBe('5s');
    expect(formatDuration(65)).toBe('1m05s');
    expect(formatDuration(3700)).toBe('1h01m');
    expect(formatDuration(Number.NaN)).toBe('?');
  });
});
