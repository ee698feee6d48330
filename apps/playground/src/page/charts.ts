// SVG charts of the Training and Adapter pages: a line chart of series of points, a horizontal bar chart.
import { el, fmt, svgEl } from './dom';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const color = (k: number): string => COLORS[k % COLORS.length] ?? '#000';

export type Point = [x: number, y: number];

export interface Series {
  readonly name: string;
  readonly points: readonly Point[];
}

/** Line chart of one or more series of [x, y] points. */
export function lineChart(title: string, series: readonly Series[]): HTMLElement {
  const W = 360;
  const H = 220;
  const L = 48;
  const R = 10;
  const T = 10;
  const B = 30;
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  let x0 = Math.min(...xs);
  let x1 = Math.max(...xs);
  let y0 = Math.min(...ys);
  let y1 = Math.max(...ys);
  if (x0 === x1) {
    x0 -= 1;
    x1 += 1;
  }
  if (y0 === y1) {
    const pad = Math.abs(y0) * 0.1 || 1;
    y0 -= pad;
    y1 += pad;
  }
  const sx = (x: number): number => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const sy = (y: number): number => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  const box = el('div', { class: 'chart', 'data-chart': title });
  box.append(el('h4', {}, title));
  const svg = svgEl('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title });
  svg.append(svgEl('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#999' }), svgEl('line', { x1: L, y1: T, x2: L, y2: H - B, stroke: '#999' }));
  svg.append(svgEl('text', { x: 2, y: H - B }, fmt(y0)), svgEl('text', { x: 2, y: T + 8 }, fmt(y1)));
  svg.append(svgEl('text', { x: L, y: H - 12 }, fmt(x0)), svgEl('text', { x: W - R - 30, y: H - 12 }, fmt(x1)));
  // many series (one per teacher): the first ones in colour with a legend, the rest thin and grey
  const LEGEND = 7;
  series.forEach((s, i) => {
    const c = i < LEGEND ? color(i) : '#b8bfcc';
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
    const only = s.points.length === 1 ? s.points[0] : undefined;
    if (only) svg.append(svgEl('circle', { cx: sx(only[0]), cy: sy(only[1]), r: 3, fill: c }));
    else svg.append(svgEl('path', { d, fill: 'none', stroke: c, 'stroke-width': i < LEGEND ? 1.5 : 0.75 }));
    if (series.length > 1 && i < LEGEND)
      svg.append(svgEl('text', { x: W - R - 110, y: T + 10 + 12 * i, style: `fill:${c}` }, s.name.length > 20 ? `${s.name.slice(0, 19)}…` : s.name));
  });
  if (series.length > LEGEND)
    svg.append(svgEl('text', { x: W - R - 110, y: T + 10 + 12 * LEGEND, style: 'fill:#8a93a6' }, `+ ${series.length - LEGEND} more (grey)`));
  box.append(svg);
  return box;
}

/** Horizontal bar chart: one row per label, one bar per value set (colour), an optional legend. */
export function barChart(title: string, labels: readonly string[], valueSets: readonly (readonly number[])[], legend: readonly string[] = []): HTMLElement {
  const rowH = 14 * valueSets.length + 4;
  const L = 250;
  const W = 620;
  const T = legend.length ? 18 : 4;
  const H = T + rowH * labels.length + 6;
  const max = Math.max(1e-12, ...valueSets.flat().map((v) => Math.abs(v)));
  const box = el('div', { class: 'chart', 'data-chart': title });
  box.append(el('h4', {}, title));
  const svg = svgEl('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title });
  legend.forEach((name, k) => svg.append(svgEl('text', { x: L + 120 * k, y: 12, style: `fill:${color(k)}` }, name)));
  labels.forEach((label, i) => {
    const y = T + i * rowH;
    svg.append(svgEl('text', { x: 0, y: y + 11 }, label.length > 42 ? `…${label.slice(-41)}` : label));
    valueSets.forEach((vals, k) => {
      const v = vals[i] ?? 0;
      const w = (Math.abs(v) / max) * (W - L - 70);
      // a negative value (a cosine) is drawn by its size in grey; its label keeps the sign
      svg.append(svgEl('rect', { x: L, y: y + 14 * k, width: Math.max(0.5, w), height: 12, fill: v < 0 ? '#9aa3b5' : color(k) }));
      svg.append(svgEl('text', { x: L + w + 4, y: y + 14 * k + 10 }, fmt(v)));
    });
  });
  box.append(svg);
  return box;
}
