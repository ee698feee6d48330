// The one sorted-key JSON writer of the workspace: no imports, so browser-safe entries and the tfjs-free
// `@tagi/tensor-core/json-file` share it.
export interface StableJsonOptions {
  /**
   * Dot paths of objects whose own keys keep their insertion order (their values are still sorted), e.g.
   * `['stages']` for a record whose order means something.
   */
  readonly keepOrder?: readonly string[];
}

/** Deterministic JSON: keys sorted at every depth, 2 spaces, trailing newline. */
export function stableJson(value: unknown, opts: StableJsonOptions = {}): string {
  const keepOrder = new Set(opts.keepOrder ?? []);
  // `at`: the dot path of `v` from the root ('' = the root); undefined inside lists (no path names them)
  const sort = (v: unknown, at: string | undefined): unknown => {
    if (Array.isArray(v)) return v.map((x) => sort(x, undefined));
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const keys = at !== undefined && keepOrder.has(at) ? Object.keys(o) : Object.keys(o).sort();
    return Object.fromEntries(keys.map((k) => [k, sort(o[k], at === undefined ? undefined : at === '' ? k : `${at}.${k}`)]));
  };
  return `${JSON.stringify(sort(value, ''), null, 2)}\n`;
}
