/** A hypernetwork configuration value is invalid; `problems` holds one `dot.path: message` per fault. */
export class HypernetConfigError extends Error {
  override readonly name = 'HypernetConfigError';
  constructor(
    readonly problems: readonly string[],
    readonly source = 'HypernetConfig',
  ) {
    super(`${source}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join('\n  ')}`}`);
  }
}

/** A checkpoint cannot be loaded: wrong files, or a base model that differs from the one it was trained on. */
export class HypernetCheckpointError extends Error {
  override readonly name = 'HypernetCheckpointError';
  constructor(
    readonly file: string,
    readonly fault: string,
  ) {
    super(`${file}: ${fault}`);
  }
}

/** A call received an argument it cannot use (names the argument and what was expected). */
export class HypernetInputError extends Error {
  override readonly name = 'HypernetInputError';
  constructor(
    readonly argument: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${argument}: expected ${expected}, got ${got}`);
  }
}
