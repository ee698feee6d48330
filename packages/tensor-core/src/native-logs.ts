// TensorFlow's C++ runtime logs to the process's stderr (file descriptor 2) when @tensorflow/tfjs-node loads:
// with the libtensorflow tfjs-node 4.22 downloads (2.9.1) TF_CPP_MIN_LOG_LEVEL=2 hides its INFO and WARNING
// lines, but newer builds log through Abseil, which writes everything logged before `absl::InitializeLog()`
// (the oneDNN notice, "WARNING: All log messages before absl::InitializeLog() …") whatever the level. Node
// cannot redirect its own descriptor 2, so a command that wants a quiet start runs itself as a child whose
// stderr is a pipe, and copies that pipe to its stderr without TensorFlow's INFO/WARNING lines (errors pass).
// A separate, Node-only entry that loads no tfjs: the parent process stays small and starts fast.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** Set in the child's environment: the child is already filtered (and must not relaunch itself). */
export const QUIET_CHILD_ENV = 'TAGI_QUIET_CHILD';
/** What the filtered child gets when the user set no level: errors only (TensorFlow's own default is 0, everything). */
export const QUIET_TF_LOG_LEVEL = '2';

// absl / glog: `I0000 00:00:1796667712.527438   22188 port.cc:153] …` (severity I/W/E/F, month-day, time — before absl::InitializeLog
// the seconds are the Unix time —, thread, file:line)
const ABSL_LINE = /^([IWEF])\d{4} \d{2}:\d{2}:\d+\.\d+\s+\d+\s+[\w./+-]+:\d+\]/;
// TensorFlow ≤ 2.15's own format: `2024-08-24 22:24:04.039287: W tensorflow/…/dso_loader.cc:64] …`
const TF_LINE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+: ([IWEF]) [\w./+-]+:\d+\]/;
const ABSL_PREINIT = /^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR\s*$/;
// the second line of cpu_feature_guard's INFO message (a line of its own, without a prefix)
const CPU_GUARD_TAIL = /^To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.\s*$/;

/** A line TensorFlow's C++ runtime writes at INFO or WARNING level (what a quiet start hides). ERROR and FATAL lines are not. */
export function isTensorFlowInfoLine(line: string): boolean {
  const severity = ABSL_LINE.exec(line)?.[1] ?? TF_LINE.exec(line)?.[1];
  if (severity !== undefined) return severity === 'I' || severity === 'W';
  return ABSL_PREINIT.test(line) || CPU_GUARD_TAIL.test(line);
}

/** Copies `input` line by line to `write`, without TensorFlow's INFO/WARNING lines; resolves at the end of the input. */
export function copyWithoutTensorFlowInfo(input: Readable, write: (text: string) => void): Promise<void> {
  return new Promise((resolve) => {
    const lines = createInterface({ input, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (!isTensorFlowInfoLine(line)) write(`${line}\n`);
    });
    lines.on('close', () => resolve());
  });
}

/**
 * Whether a command should relaunch itself filtered: not when the user asked for TensorFlow's logs (--verbose,
 * or their own TF_CPP_MIN_LOG_LEVEL, which then applies unchanged), not inside the filtered child, and not on
 * Windows (no process groups: a forwarded Ctrl-C would arrive twice; TF_CPP_MIN_LOG_LEVEL alone applies there).
 */
export function wantsQuietRelaunch(opts: { verbose: boolean; env?: NodeJS.ProcessEnv; platform?: NodeJS.Platform }): boolean {
  const env = opts.env ?? process.env;
  if (opts.verbose || env['TF_CPP_MIN_LOG_LEVEL'] !== undefined || env[QUIET_CHILD_ENV] !== undefined) return false;
  return (opts.platform ?? process.platform) !== 'win32';
}

export interface QuietRelaunchOptions {
  /** The script to run (default: this process's, `process.argv[1]`). */
  readonly script?: string;
  /** Its arguments (default: this process's). */
  readonly args?: readonly string[];
  /** Extra environment for the child. */
  readonly env?: NodeJS.ProcessEnv;
  /** Where the filtered stderr goes (default: this process's stderr). */
  readonly write?: (text: string) => void;
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs the script again as a child (same Node, same --import/--loader flags) with TF_CPP_MIN_LOG_LEVEL=2 and its
 * stderr filtered, and resolves with how it ended. stdin and stdout are the child's directly (terminal widths,
 * progress bars and a reader closing the pipe behave as without the relaunch). The child has its own process
 * group, so a terminal's Ctrl-C reaches this process only, which passes every SIGINT, SIGTERM and SIGHUP on once
 * (a command that stops gracefully on the first signal and at once on the second keeps that behaviour); Ctrl-Z
 * stops both. If this process dies, the child sees its IPC channel close (see {@link followQuietLauncher}).
 */
export function runQuietChild(opts: QuietRelaunchOptions = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const script = opts.script ?? (process.argv[1] as string);
  const args = opts.args ?? process.argv.slice(2);
  const write = opts.write ?? ((t: string) => void process.stderr.write(t));
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, script, ...args], {
    stdio: ['inherit', 'inherit', 'pipe', 'ipc'],
    detached: true,
    env: { ...process.env, ...opts.env, TF_CPP_MIN_LOG_LEVEL: QUIET_TF_LOG_LEVEL, [QUIET_CHILD_ENV]: '1' },
  });
  const forward = (signal: NodeJS.Signals) => () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const handlers = FORWARDED.map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  const onStop = () => {
    child.kill('SIGSTOP');
    process.kill(process.pid, 'SIGSTOP');
  };
  const onContinue = () => child.kill('SIGCONT');
  process.on('SIGTSTP', onStop);
  process.on('SIGCONT', onContinue);
  const copied = copyWithoutTensorFlowInfo(child.stderr as Readable, write);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      void copied.then(() => {
        for (const [s, h] of handlers) process.off(s, h);
        process.off('SIGTSTP', onStop);
        process.off('SIGCONT', onContinue);
        resolve({ code, signal });
      });
    });
  });
}

/**
 * In the child of {@link runQuietChild}: when the launcher goes away without passing a signal on (killed with
 * SIGKILL, or crashed), `onOrphaned` runs — usually the command dies the same way, so the pair behaves as the one
 * process the user started. The channel does not keep the child alive.
 */
export function followQuietLauncher(onOrphaned: () => void): void {
  if (process.env[QUIET_CHILD_ENV] === undefined || typeof process.send !== 'function') return;
  const channel = process.channel as { unref?: () => void } | undefined;
  channel?.unref?.();
  process.once('disconnect', onOrphaned);
}

/** Ends this process the way the child ended: the same exit code, or the same signal re-raised. */
export function exitLikeChild(result: { code: number | null; signal: NodeJS.Signals | null }): void {
  if (result.signal !== null) {
    process.removeAllListeners(result.signal);
    process.kill(process.pid, result.signal);
    return;
  }
  process.exit(result.code ?? 1);
}
