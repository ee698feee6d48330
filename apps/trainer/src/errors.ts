// Errors the CLI reports as a clear message and a non-zero exit code (never a stack trace).

/** A problem with what the user gave us: an argument, a config key, a path, a file. Exit code 2. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** A config that fails the schema; `problems` are `dot.path: message` lines. */
export class ConfigError extends CliError {
  override readonly name = 'ConfigError';
  constructor(
    readonly problems: readonly string[],
    source: string,
  ) {
    super(`invalid configuration (${source}):\n  ${problems.join('\n  ')}`);
  }
}

/** A checkpoint that cannot be resumed from (missing, truncated, hash mismatch, wrong run). */
export class CheckpointError extends CliError {
  override readonly name = 'CheckpointError';
  constructor(
    readonly file: string,
    readonly fault: string,
  ) {
    super(`checkpoint ${file}: ${fault}. Nothing was overwritten; remove or fix the checkpoint, or start a new run without --resume.`);
  }
}

/** A stage whose library is not available in this build (reported, never faked). */
export class StageUnavailableError extends Error {
  override readonly name = 'StageUnavailableError';
  constructor(
    readonly stage: string,
    readonly missing: readonly string[],
  ) {
    super(`stage '${stage}' unavailable: missing ${missing.join(', ')}`);
  }
}

/** Thrown by the training loop when SIGINT arrived and the checkpoint was saved. Exit code 130. */
export class InterruptedError extends CliError {
  override readonly name = 'InterruptedError';
  constructor(readonly checkpoint: string | undefined) {
    super(checkpoint ? `interrupted: checkpoint saved to ${checkpoint}; continue with --resume` : 'interrupted between stages: finished stages are kept; continue with --resume', 130);
  }
}
