/** Bad input to an evaluation function: names the argument (and element) and what was expected. */
export class EvalInputError extends Error {
  override readonly name = 'EvalInputError';
  /** the argument or dotted path at fault, e.g. `references[3]` or `config.dModel` */
  readonly argument: string;
  /** what was expected there */
  readonly expected: string;
  /** what was received, rendered for the message */
  readonly received: string;

  constructor(fn: string, argument: string, expected: string, received: unknown) {
    const shown = describe(received);
    super(`${fn}: ${argument}: expected ${expected}, got ${shown}`);
    this.argument = argument;
    this.expected = expected;
    this.received = shown;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'string') return value.length > 40 ? `a string of length ${value.length}` : JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return typeof value;
}

/** @internal */
export function expectString(fn: string, argument: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') throw new EvalInputError(fn, argument, 'a string', value);
}

/** @internal: a non-empty array of strings (SNI's `max` over an empty reference list raises). */
export function expectReferences(fn: string, argument: string, value: unknown): asserts value is readonly string[] {
  if (!Array.isArray(value)) throw new EvalInputError(fn, argument, 'an array of reference strings', value);
  if (value.length === 0) {
    throw new EvalInputError(fn, argument, 'at least one reference (SNI takes a max over references)', value);
  }
  for (let i = 0; i < value.length; i++) expectString(fn, `${argument}[${i}]`, value[i]);
}

/** @internal */
export function expectFiniteNumber(fn: string, argument: string, value: unknown, opts: { min?: number; integer?: boolean } = {}): asserts value is number {
  const ok = typeof value === 'number' && Number.isFinite(value) && (opts.min === undefined || value >= opts.min) && (!opts.integer || Number.isInteger(value));
  if (!ok) {
    const what = `${opts.integer ? 'an integer' : 'a finite number'}${opts.min !== undefined ? ` >= ${opts.min}` : ''}`;
    throw new EvalInputError(fn, argument, what, value);
  }
}
