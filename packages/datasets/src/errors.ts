// Typed errors: each names the file (or source), the location and what was expected.

/** Unparseable JSON / JSONL: carries the file and 1-based line (0 when not line-oriented). */
export class DatasetParseError extends Error {
  override readonly name = 'DatasetParseError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${file}${line > 0 ? `:${line}` : ''}: ${detail}`);
  }
}

/** A record lacks a required field or has it with the wrong type. */
export class DatasetFieldError extends Error {
  override readonly name = 'DatasetFieldError';
  constructor(
    readonly file: string,
    readonly field: string,
    readonly expected: string,
    readonly line = 0,
  ) {
    super(`${file}${line > 0 ? `:${line}` : ''}: field "${field}": expected ${expected}`);
  }
}

/** A prompt template refers to a field the example does not have. */
export class TemplateFieldError extends Error {
  override readonly name = 'TemplateFieldError';
  constructor(
    readonly template: string,
    readonly field: string,
    readonly detail = '',
  ) {
    super(`template "${template}": field "${field}" is missing from the example${detail ? ` (${detail})` : ''}`);
  }
}

/** Bad argument to a public function (unknown dataset, bad option). */
export class DatasetArgumentError extends Error {
  override readonly name = 'DatasetArgumentError';
  constructor(
    readonly argument: string,
    readonly expected: string,
    readonly got: unknown,
  ) {
    super(`${argument}: expected ${expected}, got ${JSON.stringify(got)}`);
  }
}
