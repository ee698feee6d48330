// Helpers shared by the trainer's tests (not part of the CLI).
import type { CliIO } from './io.js';

export interface CapturedIO extends CliIO {
  out(): string;
  err(): string;
}

export function captureIO(signal?: AbortSignal, onOut?: (s: string) => void): CapturedIO {
  let out = '';
  let err = '';
  return {
    stdout: {
      write: (s: string) => {
        out += s;
        onOut?.(s);
        return true;
      },
      isTTY: false,
    },
    stderr: { write: (s: string) => (err += s) },
    tty: false,
    ...(signal !== undefined ? { signal } : {}),
    out: () => out,
    err: () => err,
  };
}
