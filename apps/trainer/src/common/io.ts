// What a command talks to: output streams, the stop signal, the working directory.

export interface CliIO {
  stdout: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(s: string): unknown };
  /** Aborted on SIGINT / SIGTERM (the bin wires process signals; tests pass their own). */
  signal?: AbortSignal;
  /** Exit code for a stop through `signal` (130 for SIGINT, 143 for SIGTERM); default 130. */
  stopExitCode?: () => number;
  /** Force progress bars on/off (default: stdout.isTTY). */
  tty?: boolean;
  cwd?: string;
}
