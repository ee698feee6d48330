// Entry point: `node apps/playground/dist/server.js [--port N] [--root DIR]...` (or `pnpm playground`).
import path from 'node:path';
import { startPlayground } from './app';
import { CliArgsError, USAGE, isLoopback, parseArgs } from './cli-args';
import { TagiEngine } from './engine';
import { resolveRoots } from './paths';
import { listRunDirs } from './runs';

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof CliArgsError) {
      process.stderr.write(`tagi-playground: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  const defaultRoot = path.resolve('runs');
  const wanted = [...(args.noDefaultRoot ? [] : [defaultRoot]), ...args.roots];
  const { roots, missing } = resolveRoots(wanted);
  for (const m of missing) {
    if (m === defaultRoot) process.stderr.write(`note: ${m} does not exist yet (run \`pnpm demo\` first, or pass --root DIR)\n`);
    else {
      process.stderr.write(`tagi-playground: --root ${m}: not an existing directory\n`);
      process.exit(2);
    }
  }
  if (!isLoopback(args.host)) {
    process.stderr.write(`WARNING: binding ${args.host}: anyone who can reach this address can read the run dirs under the roots and use this machine's CPU. There is no authentication.\n`);
  }
  const engine = new TagiEngine({ maxInstructionTokens: args.maxInstructionTokens, ...(args.backend ? { backend: args.backend } : {}) });
  const app = await startPlayground({ roots, engine, host: args.host, port: args.port, log: (l) => process.stderr.write(`${l}\n`) });
  const runs = listRunDirs(roots.dirs);
  process.stdout.write(`TAGI playground: ${app.url}\n`);
  process.stdout.write(`roots: ${roots.dirs.join(', ') || '(none)'}\n`);
  process.stdout.write(runs[0] ? `newest run: ${runs[0].dir}\n` : 'no run dir found under the roots yet\n');
  const stop = (): void => {
    engine.dispose();
    void app.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`tagi-playground: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
