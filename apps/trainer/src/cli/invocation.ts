// From argv to a checked invocation, before anything is loaded or created: the command, the flags it
// accepts (a flag it does not use is an error with a suggestion), the resolved and validated config,
// the run dir, and every input path checked. A failure here costs nothing and leaves nothing behind.
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { RUN_STATE_FILE, readRunState } from '@tagi/run-dir/node';
import { parseArgs } from './args.js';
import { CONFIG_KEYS, type JsonObject, type TagiConfig, coerceValue, kebabToCamel, resumeMayChange, setDotted, validateConfig } from '../config/config.js';
import { COMMANDS, type CommandName, EXPERIMENTS, type RunCommand } from '../common/command-names.js';
import { CliError } from '../common/errors.js';
import { HELP } from './help.js';
import { checkT5Dir } from '../run/inspect.js';
import type { CliIO } from '../common/io.js';
import { isHubModel, resolveDataArg, resolveModelArg, resolvePath } from '../common/paths.js';
import { checkDataFor } from '../data/sources.js';
import { resolveConfig } from '../config/resolve.js';
import { CONFIG_FILE, commandLine, defaultRunDir, readRunConfig } from '../run/run-files.js';
import { didYouMean } from '../common/suggest.js';
import { QUEUE_COMMANDS, type QueueTarget, WORKER_FLAGS, type WorkerInvocation, parseQueueUrl, parseWorker } from '../queue/cli.js';
import { PUSH_FLAGS, type PushInvocation, parsePush } from '../hub/push.js';

const camelToKebab = (k: string) =>
  k
    .split('.')
    .map((s) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`))
    .join('.');

// Which config keys each run command reads (a pattern ending in '.*' covers a subtree). A flag outside its
// command's list is refused: it would be ignored silently otherwise.
const RUN_KEYS = ['runDir', 'name', 'backend', 'seed'];
const TRAINING_KEYS = ['logEvery', 'checkpointEvery', 'optim.*'];
const DATA_KEYS = ['data', 'prompt.*'];
const HYPERNET_SHAPE = ['hypernet.rank', 'hypernet.alpha', 'hypernet.hiddenDim', 'hypernet.fusion', 'hypernet.pooling', 'hypernet.targetModules'];
const COMMAND_KEYS: Record<RunCommand, readonly string[]> = {
  demo: [...RUN_KEYS, ...TRAINING_KEYS, ...DATA_KEYS, 'model', 'base.*', 'teachers.*', 'multitask.*', 'hypernet.*', 'distill.*', 'eval.*'],
  experiment: [...RUN_KEYS, ...TRAINING_KEYS, ...DATA_KEYS, 'model', 'base.*', 'teachers.*', 'multitask.*', 'hypernet.*', 'distill.*', 'eval.*'],
  'experiment-paper': [...RUN_KEYS, ...TRAINING_KEYS, ...DATA_KEYS, 'model', 'base.*', 'teachers.*', 'multitask.*', 'hypernet.*', 'distill.*', 'eval.*'],
  base: [...RUN_KEYS, ...TRAINING_KEYS, ...DATA_KEYS, 'base.*'],
  teachers: [...RUN_KEYS, ...TRAINING_KEYS, ...DATA_KEYS, 'model', 'teachers.*', 'multitask.*'],
  pretrain: [...RUN_KEYS, ...TRAINING_KEYS, ...DATA_KEYS, 'model', ...HYPERNET_SHAPE, 'hypernet.pretrain.*', 'hypernet.seeds'],
  finetune: [
    ...RUN_KEYS,
    ...TRAINING_KEYS,
    ...DATA_KEYS,
    'model',
    'hypernetDir',
    'teachersDir',
    'adapter',
    'teachers.groupBy',
    ...HYPERNET_SHAPE,
    'hypernet.finetune.*',
    'hypernet.seeds',
    'distill.*',
  ],
  eval: [...RUN_KEYS, ...DATA_KEYS, 'model', 'hypernetDir', 'adapter', 'eval.*'],
};
/** Flags that are not config keys, per kind of command. */
const RUN_CONTROL = ['help', 'preset', 'config', 'resume', 'allow-non-finite'];
const GENERATE_FLAGS = ['help', 'hypernet', 'instruction', 'out', 'model', 'backend', 'allow-non-finite'];
/** Flag spellings of config keys with another name. */
const FLAG_ALIASES: Record<string, string> = { hypernet: 'hypernetDir' };
const KEY_FLAGS: Record<string, string> = { hypernetDir: 'hypernet' };

/**
 * `--adapter` / `--hypernet`: an existing path, or a Hub id `org/name[@revision]` (always with an org, so a bare
 * name that does not exist is reported as a missing dir, not looked up on the Hub).
 */
function resolveHubArg(cwd: string, value: string): string {
  const at = value.indexOf('@');
  return (at < 0 ? value : value.slice(0, at)).includes('/') ? resolveModelArg(cwd, value) : resolvePath(cwd, value);
}

function keyAllowed(command: RunCommand, key: string): boolean {
  return COMMAND_KEYS[command].some((p) => (p.endsWith('.*') ? key.startsWith(p.slice(0, -1)) : key === p));
}

/** Every flag spelling a command accepts (for suggestions and help). */
export function commandFlags(command: CommandName): string[] {
  if (command === 'inspect') return ['help'];
  if (command === 'generate') return GENERATE_FLAGS;
  if (command === 'worker') return WORKER_FLAGS;
  if (command === 'push') return PUSH_FLAGS;
  return [
    ...RUN_CONTROL,
    ...(QUEUE_COMMANDS.includes(command) ? ['queue'] : []),
    ...[...CONFIG_KEYS.keys()].filter((k) => keyAllowed(command, k)).map((k) => KEY_FLAGS[k] ?? camelToKebab(k)),
  ];
}

function commandsWithFlag(flag: string): CommandName[] {
  return COMMANDS.filter((c) => commandFlags(c).includes(flag));
}

/** The refusal of a flag `command` does not take: a suggestion among its own flags, or which commands use it. */
function unknownFlag(command: CommandName, name: string): CliError {
  const elsewhere = commandsWithFlag(FLAG_ALIASES[name] !== undefined || GENERATE_FLAGS.includes(name) ? name : camelToKebab(kebabToCamel(name)));
  if (elsewhere.length > 0) {
    return new CliError(
      `'tagi ${command}' does not use --${name} (an option of: ${elsewhere.map((c) => `tagi ${c}`).join(', ')}); see 'tagi ${command} --help'`,
    );
  }
  return new CliError(
    `unknown option '--${name}' for 'tagi ${command}'${didYouMean(name, commandFlags(command), (s) => `'--${s}'`)} (see 'tagi ${command} --help')`,
  );
}

export type Invocation =
  | { readonly command: 'inspect'; readonly path: string; readonly io: CliIO }
  | {
      readonly command: 'generate';
      readonly hypernetDir: string;
      readonly instruction: string;
      readonly out: string;
      /** The base model, when it is not where the hypernetwork's config says. */
      readonly model?: string;
      readonly backend: TagiConfig['backend'];
      /** --allow-non-finite: weights holding NaN/Inf are used with a warning instead of refused (models.ts). */
      readonly allowNonFinite?: boolean;
      readonly io: CliIO;
    }
  | WorkerInvocation
  | PushInvocation
  | {
      readonly command: RunCommand;
      readonly config: TagiConfig;
      readonly runDir: string;
      readonly resume: boolean;
      readonly io: CliIO;
      readonly queue?: QueueTarget;
      readonly allowNonFinite?: boolean;
    };

/** `--allow-non-finite` takes no value. */
function flagOn(name: string, value: string | true): true {
  if (value !== true && value !== 'true') throw new CliError(`--${name} takes no value`);
  return true;
}

export type RunInvocation = Extract<Invocation, { config: TagiConfig }>;
export type GenerateInvocation = Extract<Invocation, { command: 'generate' }>;

/** Parses and checks argv; `{ help }` for --help. Throws CliError (exit 2) for anything wrong. */
export function parseInvocation(argv: readonly string[], io: CliIO): Invocation | { help: string } {
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
  const cwd = io.cwd ?? process.cwd();

  if (command === 'inspect') {
    if (args.flags.length > 0) throw unknownFlag(command, args.flags[0]?.[0] as string);
    if (args.positionals.length !== 1)
      throw new CliError(
        args.positionals.length === 0
          ? `'tagi inspect' needs a PATH argument\n\n${HELP['inspect']}`
          : `unexpected argument '${args.positionals[1]}' for 'tagi inspect'`,
      );
    return { command, path: resolvePath(cwd, args.positionals[0] as string), io };
  }
  if (command === 'push') return parsePush(args.positionals, args.flags, io, cwd, (name) => unknownFlag(command, name), HELP['push'] as string);
  if (command === 'experiment') {
    const [name, extra] = args.positionals;
    if (name === undefined) throw new CliError(`'tagi experiment' needs the experiment's name: ${EXPERIMENTS.join(', ')}\n\n${HELP['experiment']}`);
    if (!(EXPERIMENTS as readonly string[]).includes(name))
      throw new CliError(`unknown experiment '${name}'${didYouMean(name, EXPERIMENTS)}; expected one of ${EXPERIMENTS.join(', ')}`);
    if (extra !== undefined) throw new CliError(`unexpected argument '${extra}' for 'tagi experiment ${name}' (options are written --name=value)`);
  } else if (args.positionals.length > 0)
    throw new CliError(`unexpected argument '${args.positionals[0]}' for 'tagi ${command}' (options are written --name=value)`);
  if (command === 'generate') return parseGenerate(args.flags, io, cwd);
  if (command === 'worker') return parseWorker(args.flags, io, (name) => unknownFlag(command, name));
  return parseRun(command === 'experiment' && args.positionals[0] === 'paper' ? 'experiment-paper' : command, args.flags, io, cwd);
}

/** The invocation of a command that writes a run dir. */
function parseRun(command: RunCommand, flags: readonly (readonly [string, string | true])[], io: CliIO, cwd: string): Invocation {
  let preset: string | undefined;
  let configFile: string | undefined;
  let resume = false;
  let queue: QueueTarget | undefined;
  let allowNonFinite = false;
  const overrides: [string, string][] = [];
  for (const [name, value] of flags) {
    if (name === 'preset' || name === 'config') {
      if (value === true) throw new CliError(`--${name} needs a value`);
      if (name === 'preset') preset = value;
      else configFile = value;
      continue;
    }
    if (name === 'queue' && (QUEUE_COMMANDS as readonly string[]).includes(command)) {
      queue = parseQueueUrl(value);
      continue;
    }
    if (name === 'resume') {
      if (value !== true && value !== 'true') throw new CliError('--resume takes no value (the run dir is --run-dir)');
      resume = true;
      continue;
    }
    if (name === 'allow-non-finite') {
      allowNonFinite = flagOn(name, value);
      continue;
    }
    const key = FLAG_ALIASES[name] ?? kebabToCamel(name);
    const leaf = CONFIG_KEYS.get(key);
    if (leaf === undefined || !keyAllowed(command, key)) throw unknownFlag(command === 'experiment-paper' ? 'experiment' : command, name);
    if (value === true && leaf.kind !== 'boolean') throw new CliError(`--${name} needs a value (--${name}=VALUE)`);
    overrides.push([key, value === true ? 'true' : value]);
  }

  let config: TagiConfig;
  let runDir: string;
  if (resume) {
    const rd = overrides.find(([k]) => k === 'runDir');
    if (rd === undefined) throw new CliError('--resume needs --run-dir=DIR (the run to continue)');
    const others = overrides.filter(([k]) => k !== 'runDir' && !resumeMayChange(k)).map(([k]) => `--${KEY_FLAGS[k] ?? camelToKebab(k)}`);
    if (preset !== undefined || configFile !== undefined || others.length > 0) {
      throw new CliError(
        `--resume continues the saved config of the run (only learning rates and --optim.max-grad-norm may change); remove ${[...(preset ? ['--preset'] : []), ...(configFile ? ['--config'] : []), ...others].join(', ')}`,
      );
    }
    runDir = resolvePath(cwd, rd[1]);
    config = readRunConfig(runDir);
    const changes = overrides.filter(([k]) => resumeMayChange(k));
    if (changes.length > 0) {
      // Run.open records the new values in config.json and trainer_state.json, under the run's lock
      const obj = JSON.parse(JSON.stringify(config)) as JsonObject;
      for (const [k, v] of changes) setDotted(obj, k, coerceValue(k, v));
      config = validateConfig(obj, 'command line');
    }
    const state = readRunState(runDir);
    if (state === undefined) throw new CliError(`--resume: ${path.join(runDir, RUN_STATE_FILE)} not found; nothing to resume`);
    if (state.command !== command) {
      throw new CliError(
        `--resume: '${runDir}' is a run of 'tagi ${commandLine(state.command)}'; continue it with: tagi ${commandLine(state.command)} --resume --run-dir=${runDir}`,
      );
    }
  } else {
    config = resolveConfig({
      ...(preset !== undefined ? { preset } : {}),
      ...(configFile !== undefined ? { configFile: resolvePath(cwd, configFile) } : {}),
      overrides,
      defaultPreset: 'tiny',
    });
    // paths in the config are taken relative to where the command runs (`~` expanded), and saved absolute
    const abs = (p: string | undefined) => (p === undefined ? undefined : resolvePath(cwd, p));
    config = validateConfig(
      {
        ...config,
        ...(config.model !== undefined ? { model: resolveModelArg(cwd, config.model) } : {}),
        // a Hub id org/name[@revision] stays an id (resolved through the HF cache before the run starts: inputs.ts)
        ...(config.hypernetDir !== undefined ? { hypernetDir: resolveHubArg(cwd, config.hypernetDir) } : {}),
        ...(config.adapter !== undefined ? { adapter: resolveHubArg(cwd, config.adapter) } : {}),
        ...(config.teachersDir !== undefined ? { teachersDir: abs(config.teachersDir) } : {}),
        data: resolveDataArg(cwd, config.data),
      },
      'command line',
    );
    runDir = resolvePath(cwd, config.runDir ?? defaultRunDir(config));
    checkFreshRunDir(runDir);
  }
  checkRunInputs(command, config);
  return { command, config, runDir, resume, io, ...(queue !== undefined ? { queue } : {}), ...(allowNonFinite ? { allowNonFinite } : {}) };
}

/**
 * `p` can be created or written: its nearest existing ancestor is a directory this process may write
 * (an OS error such as EACCES or EROFS, naming that directory, otherwise).
 */
function checkWritable(flag: string, p: string): void {
  let d = p;
  while (!existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  if (!statSync(d).isDirectory()) throw new CliError(`${flag}: '${d}' is a file, so '${p}' cannot be created; choose another path`);
  accessSync(d, constants.W_OK);
}

/** A new run needs a run dir that is not a file, holds no run yet, and can be written. */
function checkFreshRunDir(runDir: string): void {
  if (!existsSync(runDir)) {
    checkWritable('--run-dir', runDir);
    return;
  }
  if (!statSync(runDir).isDirectory()) throw new CliError(`--run-dir: '${runDir}' is a file; choose a directory path`);
  if (existsSync(path.join(runDir, RUN_STATE_FILE)) || existsSync(path.join(runDir, CONFIG_FILE))) {
    throw new CliError(`run dir '${runDir}' already holds a run; continue it with --resume --run-dir=${runDir}, or choose another --run-dir`);
  }
}

function checkDir(flag: string, dir: string, marker: string, what: string): void {
  if (!existsSync(dir)) throw new CliError(`${flag}: '${dir}' does not exist`);
  if (!statSync(dir).isDirectory()) throw new CliError(`${flag}: '${dir}' is a file; expected ${what}`);
  if (!existsSync(path.join(dir, marker))) throw new CliError(`${flag}: '${dir}' has no ${marker} (expected ${what})`);
}

/** The inputs each command needs, present and of the right kind. */
function checkRunInputs(command: RunCommand, c: TagiConfig): void {
  const needsModel = command === 'teachers' || command === 'pretrain' || command === 'finetune' || command === 'eval';
  if (needsModel && c.model === undefined) {
    throw new CliError(`'tagi ${command}' needs --model=HF_T5_DIR (the frozen base T5; 'tagi base' or 'tagi demo' trains a small one)`);
  }
  if (c.model !== undefined && !isHubModel(c.model)) checkT5Dir(c.model); // a Hub id is resolved (once) before the run starts: inputs.ts
  checkDataFor(command, c.data);
  if (c.hypernetDir !== undefined && !isHubModel(c.hypernetDir))
    checkDir('--hypernet', c.hypernetDir, 'hypernet_config.json', 'a hypernetwork dir (hypernet_config.json + hypernet.safetensors)');
  if (c.adapter !== undefined && !isHubModel(c.adapter)) checkDir('--adapter', c.adapter, 'adapter_config.json', 'a peft adapter dir');
  if (c.teachersDir !== undefined) {
    if (!existsSync(c.teachersDir) || !statSync(c.teachersDir).isDirectory()) throw new CliError(`--teachers-dir: '${c.teachersDir}' is not a directory`);
    const any = readdirSync(c.teachersDir).some((n) => existsSync(path.join(c.teachersDir as string, n, 'adapter_config.json')));
    if (!any)
      throw new CliError(`--teachers-dir: '${c.teachersDir}' holds no peft adapter dirs (expected <group>/adapter_config.json, as 'tagi teachers' writes)`);
  }
  if (command === 'finetune') {
    if (c.distill.lambdaKl > 0 && c.distill.klTeacher !== 'teachers' && c.adapter === undefined) {
      throw new CliError(
        `'tagi finetune' distils from the multitask model (distill.lambda-kl = ${c.distill.lambdaKl}, distill.kl-teacher = ${c.distill.klTeacher}): give --adapter=MULTITASK_ADAPTER_DIR, or --distill.lambda-kl=0`,
      );
    }
    if (c.distill.lambdaKl > 0 && c.distill.klTeacher !== 'multitask' && c.teachersDir === undefined) {
      throw new CliError(
        `'tagi finetune' distils from the task teachers (distill.kl-teacher = ${c.distill.klTeacher}): give --teachers-dir=DIR, or --distill.kl-teacher=multitask`,
      );
    }
    if (c.distill.lambdaIns > 0 && c.teachersDir === undefined) {
      throw new CliError(
        `'tagi finetune' aligns with the LoRA teachers (distill.lambda-ins = ${c.distill.lambdaIns}): give --teachers-dir=DIR, or --distill.lambda-ins=0`,
      );
    }
  }
}

function parseGenerate(flags: readonly (readonly [string, string | true])[], io: CliIO, cwd: string): Invocation {
  const got: Record<string, string> = {};
  let allowNonFinite = false;
  for (const [name, value] of flags) {
    if (!GENERATE_FLAGS.includes(name)) throw unknownFlag('generate', name);
    if (name === 'allow-non-finite') {
      allowNonFinite = flagOn(name, value);
      continue;
    }
    if (value === true) throw new CliError(`--${name} needs a value (--${name}=VALUE)`);
    got[name] = value;
  }
  const missing = ['hypernet', 'instruction', 'out'].filter((k) => got[k] === undefined);
  if (missing.length > 0) throw new CliError(`'tagi generate' needs ${missing.map((k) => `--${k}`).join(', ')}\n\n${HELP['generate']}`);
  const instruction = got['instruction'] as string;
  if (instruction.trim() === '') throw new CliError('--instruction: empty or whitespace only; give the task definition as text');
  const backend = got['backend'] ?? 'auto';
  if (!['auto', 'tensorflow', 'wasm', 'cpu'].includes(backend)) throw new CliError(`--backend: expected auto, tensorflow, wasm or cpu, got '${backend}'`);
  const hypernetDir = resolveHubArg(cwd, got['hypernet'] as string); // a Hub id stays an id (inputs.ts resolves it)
  if (!isHubModel(hypernetDir)) checkDir('--hypernet', hypernetDir, 'hypernet_config.json', 'a hypernetwork dir (hypernet_config.json + hypernet.safetensors)');
  const model = got['model'] === undefined ? undefined : resolveModelArg(cwd, got['model']);
  if (model !== undefined && !isHubModel(model)) checkT5Dir(model);
  const out = resolvePath(cwd, got['out'] as string);
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new CliError(`--out: '${out}' is a file; choose a directory path for the adapter`);
    if (readdirSync(out).length > 0) throw new CliError(`--out: '${out}' exists and is not empty; nothing was overwritten (choose another --out or remove it)`);
  }
  checkWritable('--out', path.dirname(out));
  return {
    command: 'generate',
    hypernetDir,
    instruction,
    out,
    ...(model !== undefined ? { model } : {}),
    backend: backend as TagiConfig['backend'],
    io,
    ...(allowNonFinite ? { allowNonFinite } : {}),
  };
}
