// DOM helpers of the page: typed element lookup, element builders, number formatting. No framework.

/** The element with this id, checked to be of the expected class (an HTML/script mismatch fails loudly). */
export function byId<T extends HTMLElement = HTMLElement>(id: string, type?: abstract new () => T): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id}: no such element in the page`);
  if (type && !(found instanceof type)) throw new Error(`#${id}: expected a ${type.name}, found a ${found.constructor.name}`);
  return found as T;
}

export const inputEl = (id: string): HTMLInputElement => byId(id, HTMLInputElement);
export const selectEl = (id: string): HTMLSelectElement => byId(id, HTMLSelectElement);
export const textareaEl = (id: string): HTMLTextAreaElement => byId(id, HTMLTextAreaElement);
export const buttonEl = (id: string): HTMLButtonElement => byId(id, HTMLButtonElement);

export type Attributes = Readonly<Record<string, string | number>>;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attributes = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svgEl(tag: string, attrs: Attributes = {}, text?: string): SVGElement {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A number as charts and tables show it: three decimals, exponent notation when very small or large. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return String(Math.round(v * 1000) / 1000);
}

export const msText = (ms: number): string => `${ms.toFixed(0)} ms`;
