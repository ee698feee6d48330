// The playground process (what the bin, server.ts, runs): flags, roots, the engine and the HTTP server.
import path from 'node:path';
import { startPlayground } from './app';
import { CliArgsError, USAGE, isLoopback, parseArgs } from './cli-args';
import { TagiEngine } from './engine';
import { describeOsError } from './os-errors';
import { checkDirFilesUnderRoots, realFileUnderRoots, resolveRoots, resolveUnderRoots } from './paths';
import { listRunDirs } from './runs';

/** A fault of the user's setup (bad flag, busy port, unreadable dir): one line, exit 2, no stack. */
class StartupError extends Error {}

function fail(message: string): never {
  throw new StartupError(message);
}

// stdout only announces the URL. When its reader has gone (`tagi-playground | head -1`) the server keeps
// serving and stops writing there, instead of dying on an unhandled EPIPE.
let stdoutOpen = true;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  if (stdoutOpen) process.stderr.write('note: stdout was closed by its reader (a pipe); the playground keeps serving, messages go to stderr\n');
  stdoutOpen = false;
});
const say = (line: string): void => {
  if (stdoutOpen) process.stdout.write(`${line}\n`);
};

async function main(argv: readonly string[]): Promise<void> {
  let args;
  try {
    args = parseArgs([...argv]);
  } catch (e) {
    if (e instanceof CliArgsError) fail(e.message);
    throw e;
  }
  if (args.help) {
    process.stdout.write(`${USAGE.trimEnd()}\n  --verbose                     show TensorFlow's own start-up log lines (hidden by default)\n`);
    return;
  }
  const defaultRoot = path.resolve('runs');
  const wanted = [...(args.noDefaultRoot ? [] : [defaultRoot]), ...args.roots];
  const { roots, missing } = resolveRoots(wanted);
  for (const m of missing) {
    if (m === defaultRoot)
      process.stderr.write(
        `note: ${m} does not exist yet (run \`npx @tagi/trainer demo\` here first — \`pnpm demo\` in the repository —, or pass --root DIR)\n`,
      );
    else fail(`--root ${m}: not an existing directory (create it, or pass a directory that holds run dirs)`);
  }
  if (!isLoopback(args.host)) {
    process.stderr.write(
      `WARNING: binding ${args.host}: anyone who can reach this address can read the run dirs under the roots and use this machine's CPU. There is no authentication.\n`,
    );
  }
  const engine = new TagiEngine({
    maxNewTokens: args.maxNewTokens,
    ...(args.backend ? { backend: args.backend } : {}),
    allowNonFinite: args.allowNonFinite,
    warn: (m) => process.stderr.write(`warning: ${m}\n`),
    checkDir: (dir) => checkDirFilesUnderRoots(roots, dir),
    resolveFile: (file) => realFileUnderRoots(roots, file),
    resolveDir: (dir) => resolveUnderRoots(roots, dir),
  });
  let app;
  try {
    app = await startPlayground({ roots, engine, host: args.host, port: args.port, log: (l) => process.stderr.write(`${l}\n`) });
  } catch (e) {
    const os = describeOsError(e);
    if (!os) throw e;
    fail(os.message);
  }
  const runs = listRunDirs(roots.dirs);
  say(`TAGI playground: ${app.url}`);
  say(`roots: ${roots.dirs.join(', ') || '(none)'}`);
  say(runs[0] ? `newest run: ${runs[0].dir}` : 'no run dir found under the roots yet');
  const stop = (): void => {
    engine.dispose();
    void app.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** Serves with these arguments (this process's, without --verbose); exits on a startup error. */
export function serve(argv: readonly string[]): void {
  main(argv).catch((e: unknown) => {
    if (e instanceof StartupError) {
      process.stderr.write(`tagi-playground: ${e.message}\n`);
      process.exit(2);
    }
    const os = describeOsError(e);
    if (os) {
      process.stderr.write(`tagi-playground: ${os.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`tagi-playground: internal error (a bug; please report it with this trace): ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
