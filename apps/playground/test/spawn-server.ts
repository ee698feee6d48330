// Starts the real playground CLI (from source, through tsx) on 127.0.0.1 and an ephemeral port.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = path.resolve(appDir, '..', '..');

export interface SpawnedServer {
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Run as this user and group (tests of permission errors, when the tests run as root). */
  readonly uid?: number;
  readonly gid?: number;
  /** Leave out the `--port 0 --no-default-root` defaults. */
  readonly rawArgs?: boolean;
}

function spawnCli(args: string[], opts: SpawnOptions): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/server.ts', ...(opts.rawArgs ? [] : ['--port', '0', '--no-default-root']), ...args], {
    cwd: appDir,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.uid === undefined ? {} : { uid: opts.uid }),
    ...(opts.gid === undefined ? {} : { gid: opts.gid }),
  });
}

export function spawnServer(args: string[], opts: SpawnOptions = {}): Promise<SpawnedServer> {
  const child = spawnCli(args, opts);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`playground did not print its URL within ${opts.timeoutMs ?? 60_000} ms:\n${out}`));
    }, opts.timeoutMs ?? 60_000);
    const onData = (): void => {
      const m = /TAGI playground: (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve({ url: m[1]!, child, output: () => out, stop });
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`playground exited with ${code} before printing its URL:\n${out}`));
    });
  });
}

/** Runs the CLI to its exit (for arguments that must make it refuse to start). */
export function runCli(args: string[], opts: SpawnOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(args, opts);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`playground ${args.join(' ')} still running after ${opts.timeoutMs ?? 60_000} ms:\n${stdout}${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    // 'close', not 'exit': all of its output has been read by then
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
