// Training curves as a self-contained SVG (no dependencies): one panel per stage, one line per loss
// term, x = step, y = value (linear, per-panel range).
import type { MetricEvent } from '../run/metrics.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function tickLabel(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e4 || a < 1e-2 ? x.toExponential(1) : Number(x.toPrecision(3)).toString();
}

export interface Series {
  stage: string;
  term: string;
  points: [number, number][];
}

/** Terms drawn (diagnostics such as gradNorm stay in metrics.jsonl only). */
const PLOTTED = new Set(['loss', 'ce', 'kl', 'ins']);

/**
 * Groups step events (not eval/checkpoint events) into one series per stage family and loss term.
 * Sub-stages of one family ('teachers/<category> (3/29)') share a panel, laid end to end on the x axis.
 */
export function seriesFromMetrics(events: readonly MetricEvent[]): Series[] {
  const map = new Map<string, Series>();
  const offsets = new Map<string, number>(); // sub-stage → x offset within its family
  const familyEnd = new Map<string, number>();
  for (const e of events) {
    if (e.event !== undefined || e.step < 0) continue;
    const name = e.stage.replace(/ \(\d+\/\d+\)$/, '');
    const family = name.split('/')[0] ?? name;
    let off = offsets.get(name);
    if (off === undefined) {
      off = familyEnd.get(family) ?? 0;
      offsets.set(name, off);
    }
    familyEnd.set(family, Math.max(familyEnd.get(family) ?? 0, off + e.step));
    for (const [term, v] of Object.entries(e.losses)) {
      if (!PLOTTED.has(term) || !Number.isFinite(v)) continue;
      const key = `${family}\u0000${term}`;
      let s = map.get(key);
      if (s === undefined) {
        s = { stage: family, term, points: [] };
        map.set(key, s);
      }
      s.points.push([off + e.step, v]);
    }
  }
  for (const s of map.values()) s.points.sort((a, b) => a[0] - b[0]);
  return [...map.values()];
}

export function trainingCurvesSvg(events: readonly MetricEvent[], title = 'TAGI training curves'): string {
  const series = seriesFromMetrics(events);
  const stages = [...new Set(series.map((s) => s.stage))];
  const cols = Math.min(3, Math.max(1, stages.length));
  const rows = Math.max(1, Math.ceil(stages.length / cols));
  const pw = 320;
  const ph = 220;
  const m = { l: 52, r: 12, t: 28, b: 34 };
  const W = cols * pw;
  const H = rows * ph + 30;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  if (stages.length === 0) parts.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no training steps logged</text>`);
  stages.forEach((stage, i) => {
    const ox = (i % cols) * pw;
    const oy = 30 + Math.floor(i / cols) * ph;
    const ss = series.filter((s) => s.stage === stage);
    const xs = ss.flatMap((s) => s.points.map((p) => p[0]));
    const ys = ss.flatMap((s) => s.points.map((p) => p[1]));
    const x0 = Math.min(...xs);
    let x1 = Math.max(...xs);
    const y0 = Math.min(0, ...ys);
    let y1 = Math.max(...ys);
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) y1 = y0 + 1;
    const iw = pw - m.l - m.r;
    const ih = ph - m.t - m.b;
    const sx = (x: number) => ox + m.l + ((x - x0) / (x1 - x0)) * iw;
    const sy = (y: number) => oy + m.t + ih - ((y - y0) / (y1 - y0)) * ih;
    parts.push(`<g>`);
    parts.push(`<text x="${ox + pw / 2}" y="${oy + 16}" text-anchor="middle" font-weight="bold">${esc(stage)}</text>`);
    parts.push(`<rect x="${ox + m.l}" y="${oy + m.t}" width="${iw}" height="${ih}" fill="none" stroke="#999"/>`);
    for (let t = 0; t <= 4; t++) {
      const yv = y0 + ((y1 - y0) * t) / 4;
      const xv = x0 + ((x1 - x0) * t) / 4;
      parts.push(`<text x="${ox + m.l - 4}" y="${sy(yv) + 4}" text-anchor="end">${tickLabel(yv)}</text>`);
      parts.push(`<text x="${sx(xv)}" y="${oy + m.t + ih + 14}" text-anchor="middle">${tickLabel(Math.round(xv))}</text>`);
    }
    parts.push(`<text x="${ox + m.l + iw / 2}" y="${oy + ph - 6}" text-anchor="middle">step</text>`);
    ss.forEach((s, j) => {
      const color = COLORS[j % COLORS.length] as string;
      const d = s.points.map((p, k) => `${k === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
      parts.push(`<text x="${ox + pw - m.r - 4}" y="${oy + m.t + 12 + j * 12}" text-anchor="end" fill="${color}">${esc(s.term)}</text>`);
    });
    parts.push(`</g>`);
  });
  parts.push(`</svg>\n`);
  return parts.join('\n');
}
