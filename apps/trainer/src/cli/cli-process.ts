// The `tagi` process (what the bin, cli.ts, runs): process signals and streams around `main`.
// - SIGINT and SIGTERM both stop the work the same way: the current training step finishes, a
//   checkpoint is saved, and the process exits 130 (SIGINT) or 143 (SIGTERM); evaluation stops at its
//   next batch. A second signal exits at once.
// - stdout closed by the reader (`tagi … | head -1`, EPIPE): output is dropped, the work still completes
//   and its files are written; the exit code is the command's (0 on success).
// - once `main` has returned, the process exits within a second even if a connection is left open.
import { followQuietLauncher } from '@tagi/tensor-core/native-logs';
import type { CliIO } from '../common/io.js';
import { main } from './main.js';

/** Runs `tagi` with these arguments in this process and exits with its code. */
export async function runTagi(argv: readonly string[]): Promise<void> {
  const controller = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const stop = (signal: NodeJS.Signals) => {
    if (stoppedBy !== undefined) process.exit(signal === 'SIGTERM' ? 143 : 130);
    stoppedBy = signal;
    write(
      process.stderr,
      `\ntagi: ${signal} received: stopping (training saves a checkpoint after the current step, evaluation stops at its next batch; send it again to quit now)\n`,
    );
    controller.abort();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  // A closed pipe is not an error of the command: stop writing to it and carry on.
  const closed = new WeakSet<NodeJS.WriteStream>();
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') closed.add(s);
      else throw e;
    });
  }
  function write(s: NodeJS.WriteStream, text: string): void {
    if (!closed.has(s) && !s.destroyed) s.write(text);
  }

  const io: CliIO = {
    stdout: {
      write: (t: string) => write(process.stdout, t),
      get isTTY() {
        return process.stdout.isTTY === true;
      },
      get columns() {
        return process.stdout.columns;
      },
    },
    stderr: { write: (t: string) => write(process.stderr, t) },
    signal: controller.signal,
    stopExitCode: () => (stoppedBy === 'SIGTERM' ? 143 : 130),
  };

  // the launcher of a filtered child (cli.ts) gone without passing a signal on was killed outright (kill -9) or
  // crashed: the command dies the same way, at once and without a checkpoint, as the one process a user sees
  // (its run-dir lock is then stale, and `--resume` takes it over)
  followQuietLauncher(() => process.kill(process.pid, 'SIGKILL'));

  const code = await main(argv, io);
  process.exitCode = code;
  // The command is over. What still holds the event loop now is a connection nobody waits for (a Redis
  // client reconnecting to a server that is down, say): it gets a second, then the process exits anyway,
  // so a stop is bounded whatever a server does. The timer itself holds nothing (unref).
  setTimeout(() => process.exit(code), 1000).unref();
}
