// `tagi` entry: parse arguments, resolve the config, select the backend, run the command. Every user
// error ends as one clear message on stderr and a non-zero exit code.
import path from 'node:path';
import { parseArgs } from './args.js';
import { CONFIG_KEYS, type TagiConfig, kebabToCamel, resolveConfig } from './config.js';
import { CliError } from './errors.js';
import { HELP } from './help.js';
import { readRunConfig } from './run.js';
import { didYouMean } from './suggest.js';

export const COMMANDS = ['demo', 'teachers', 'pretrain', 'finetune', 'eval', 'generate', 'inspect'] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface CliIO {
  stdout: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(s: string): unknown };
  /** Aborted on SIGINT (the bin wires process signals; tests pass their own). */
  signal?: AbortSignal;
  /** Force progress bars on/off (default: stdout.isTTY). */
  tty?: boolean;
  cwd?: string;
}

/** The parsed invocation every command receives. */
export interface Invocation {
  command: CommandName;
  config: TagiConfig;
  runDir: string;
  resume: boolean;
  positionals: readonly string[];
  io: CliIO;
}

/** Flags that are not config keys. */
const CONTROL_FLAGS = ['help', 'preset', 'config', 'resume'];
/** Flag spellings that map to a config key of another name. */
const FLAG_ALIASES: Record<string, string> = { hypernet: 'hypernetDir' };

function flagCandidates(): string[] {
  const camelToKebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return [...CONTROL_FLAGS, ...Object.keys(FLAG_ALIASES), ...[...CONFIG_KEYS.keys()].map(camelToKebab)];
}

const POSITIONALS: Record<CommandName, number> = { demo: 0, teachers: 0, pretrain: 0, finetune: 0, eval: 0, generate: 0, inspect: 1 };

export async function parseInvocation(argv: readonly string[], io: CliIO): Promise<Invocation | { help: string }> {
  const args = parseArgs(argv);
  const wantsHelp = args.flags.some(([k]) => k === 'help' || k === 'h');
  if (args.command === undefined || args.command === 'help') {
    const topic = args.command === 'help' ? args.positionals[0] : undefined;
    if (topic !== undefined && HELP[topic] !== undefined) return { help: HELP[topic] };
    if (args.command === undefined && !wantsHelp) throw new CliError(`missing command\n\n${HELP['main']}`);
    return { help: HELP['main'] as string };
  }
  if (!(COMMANDS as readonly string[]).includes(args.command)) {
    throw new CliError(`unknown command '${args.command}'${didYouMean(args.command, COMMANDS)}; expected one of ${COMMANDS.join(', ')}`);
  }
  const command = args.command as CommandName;
  if (wantsHelp) return { help: HELP[command] as string };

  let preset: string | undefined;
  let configFile: string | undefined;
  let resume = false;
  const overrides: [string, string][] = [];
  for (const [name, value] of args.flags) {
    if (name === 'preset' || name === 'config') {
      if (value === true) throw new CliError(`--${name} needs a value`);
      if (name === 'preset') preset = value;
      else configFile = value;
      continue;
    }
    if (name === 'resume') {
      if (value !== true && value !== 'true') throw new CliError(`--resume takes no value (the run dir is --run-dir)`);
      resume = true;
      continue;
    }
    const key = FLAG_ALIASES[name] ?? kebabToCamel(name);
    const leaf = CONFIG_KEYS.get(key);
    if (leaf === undefined) {
      throw new CliError(`unknown option '--${name}'${didYouMean(name, flagCandidates(), (s) => `'--${s}'`)} (see 'tagi ${command} --help')`);
    }
    if (value === true && leaf.kind !== 'boolean') throw new CliError(`--${name} needs a value (--${name}=VALUE)`);
    overrides.push([key, value === true ? 'true' : value]);
  }
  const want = POSITIONALS[command];
  if (args.positionals.length > want) {
    throw new CliError(`unexpected argument '${args.positionals[want]}' for 'tagi ${command}' (options are written --name=value)`);
  }
  if (args.positionals.length < want) throw new CliError(`'tagi ${command}' needs a PATH argument\n\n${HELP[command]}`);

  const cwd = io.cwd ?? process.cwd();
  let config: TagiConfig;
  let runDir: string;
  if (resume) {
    const rd = overrides.find(([k]) => k === 'runDir');
    if (rd === undefined) throw new CliError('--resume needs --run-dir=DIR (the run to continue)');
    const others = overrides.filter(([k]) => k !== 'runDir').map(([k]) => k);
    if (preset !== undefined || configFile !== undefined || others.length > 0) {
      throw new CliError(`--resume continues the saved config of the run exactly; remove ${[...(preset ? ['--preset'] : []), ...(configFile ? ['--config'] : []), ...others.map((k) => `--${k}`)].join(', ')}`);
    }
    runDir = path.resolve(cwd, rd[1]);
    config = readRunConfig(runDir);
  } else {
    config = resolveConfig({ ...(preset !== undefined ? { preset } : {}), ...(configFile !== undefined ? { configFile: path.resolve(cwd, configFile) } : {}), overrides, defaultPreset: 'tiny' });
    const { defaultRunDir } = await import('./run.js');
    runDir = path.resolve(cwd, config.runDir ?? defaultRunDir(config));
  }
  return { command, config, runDir, resume, positionals: args.positionals, io };
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  try {
    const inv = await parseInvocation(argv, io);
    if ('help' in inv) {
      io.stdout.write(`${inv.help}\n`);
      return 0;
    }
    const { runCommand } = await import('./commands/index.js');
    await runCommand(inv);
    return 0;
  } catch (e) {
    if (e instanceof CliError) {
      io.stderr.write(`tagi: ${e.message}\n`);
      return e.exitCode;
    }
    const err = e as Error;
    // library errors carry clear messages of their own (typed, naming file/key); show them without a stack
    if (err && typeof err.message === 'string' && err.name !== 'Error' && err.name !== 'TypeError' && err.name !== 'RangeError') {
      io.stderr.write(`tagi: ${err.name}: ${err.message}\n`);
      return 2;
    }
    io.stderr.write(`tagi: internal error: ${err?.stack ?? String(e)}\n`);
    return 1;
  }
}
