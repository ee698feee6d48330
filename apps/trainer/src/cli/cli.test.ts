// The CLI in-process: help, argument, flag and config errors (clear message, exit 2, nothing created),
// inspect, and bad model/hypernet/adapter/output paths — all refused before anything is loaded.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from './args.js';
import { explainError, osErrorMessage } from '../common/errors.js';
import { commandFlags } from './invocation.js';
import { main } from './main.js';
import { captureIO } from '../common/test-helpers.js';

async function run(argv: string[], cwd?: string) {
  const io = { ...captureIO(), ...(cwd ? { cwd } : {}) };
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

function tmp(): string {
  return mkdtempSync(path.join(tmpdir(), 'tagi-cli-'));
}

describe('parseArgs', () => {
  it('splits command, positionals and flags', () => {
    const a = parseArgs(['inspect', 'dir', '--x=1', '--y', '2', '--resume', '--z']);
    expect(a.command).toBe('inspect');
    expect(a.positionals).toEqual(['dir']);
    expect(a.flags).toEqual([
      ['x', '1'],
      ['y', '2'],
      ['resume', true],
      ['z', true],
    ]);
  });
  it('rejects short options', () => {
    expect(() => parseArgs(['demo', '-x'])).toThrow(/unknown short option '-x'/);
  });
});

describe('tagi CLI', () => {
  it('prints help for every command', async () => {
    for (const argv of [['--help'], ['demo', '--help'], ['inspect', '-h'], ['help', 'generate'], ['eval', '--help'], ['base', '--help']]) {
      const r = await run(argv);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/Usage: tagi/);
    }
  });

  it('missing or unknown command → exit 2 with suggestion', async () => {
    expect((await run([])).code).toBe(2);
    const r = await run(['demoo']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command 'demoo' \(did you mean 'demo'\?\)/);
  });

  it('unknown preset, key or option → exit 2 with suggestion, nothing written, no runs/ dir', async () => {
    const dir = tmp();
    const runDir = path.join(dir, 'run');
    let r = await run(['demo', '--preset=tinny', `--run-dir=${runDir}`]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown preset 'tinny' \(did you mean 'tiny'/);
    r = await run(['demo', '--base.train.stpes=3', `--run-dir=${runDir}`]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown option '--base.train.stpes' for 'tagi demo' \(did you mean '--base.train.steps'/);
    r = await run(['demo', '--lambda-kl=3', `--run-dir=${runDir}`]);
    expect(r.err).toMatch(/did you mean '--distill.lambda-kl'/);
    r = await run(['demo', '--base.train.steps=abc', `--run-dir=${runDir}`]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/base\.train\.steps: expected a number, got 'abc'/);
    r = await run(['demo', '--backend=gpu', `--run-dir=${runDir}`]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/backend: /);
    r = await run(['demo', '--preset=smoke', '--base.train.steps=-1'], dir); // default run dir: runs/ under cwd
    expect(r.err).toMatch(/base\.train\.steps: /);
    expect(existsSync(runDir)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a flag the command does not use is refused, saying which commands use it', async () => {
    const dir = tmp();
    let r = await run(['demo', `--out=${path.join(dir, 'x')}`], dir);
    expect(r.code).toBe(2);
    expect(r.err).toBe("tagi: 'tagi demo' does not use --out (an option of: tagi generate); see 'tagi demo --help'\n");
    r = await run(['pretrain', '--adapter=x', `--model=${dir}`], dir);
    expect(r.err).toMatch(/'tagi pretrain' does not use --adapter \(an option of: tagi finetune, tagi eval\)/);
    r = await run(['base', '--teachers.rank=3'], dir);
    expect(r.err).toMatch(/'tagi base' does not use --teachers.rank \(an option of: tagi demo, tagi experiment, tagi teachers\)/);
    r = await run(['generate', '--preset=smoke', '--hypernet=h', '--instruction=x', '--out=o'], dir);
    expect(r.err).toMatch(/'tagi generate' does not use --preset/);
    r = await run(['generate', '--instuction=x'], dir);
    expect(r.err).toMatch(/unknown option '--instuction' for 'tagi generate' \(did you mean '--instruction'/);
    r = await run(['inspect', dir, '--seed=1'], dir);
    expect(r.err).toMatch(/'tagi inspect' does not use --seed/);
    expect(readdirSync(dir)).toEqual([]); // no runs/ dir: every refusal came before anything was created
    // the per-command lists hold what the help texts promise
    expect(commandFlags('generate')).toEqual(['help', 'hypernet', 'instruction', 'out', 'model', 'backend', 'allow-non-finite']);
    expect(commandFlags('eval')).toContain('eval.num-beams');
    expect(commandFlags('eval')).not.toContain('checkpoint-every');
  });

  it('missing inputs, paths and a non-T5 model dir → exit 2 naming the flag, before any loading', async () => {
    const dir = tmp();
    const runDir = path.join(dir, 'run');
    let r = await run(['teachers', `--run-dir=${runDir}`]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/'tagi teachers' needs --model=HF_T5_DIR/);
    r = await run(['eval', `--model=${path.join(dir, 'nope')}`, `--run-dir=${runDir}`, '--backend=cpu']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--model: '.*nope' does not exist/);

    const bert = path.join(dir, 'bert');
    mkdirSync(bert);
    writeFileSync(path.join(bert, 'config.json'), JSON.stringify({ model_type: 'bert', architectures: ['BertModel'], hidden_size: 8 }));
    r = await run(['eval', `--model=${bert}`, `--run-dir=${runDir}`, '--backend=cpu']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--model: '.*bert' is not a T5 model \(config.json model_type is "bert"/);

    const noWeights = path.join(dir, 't5-no-weights');
    mkdirSync(noWeights);
    writeFileSync(path.join(noWeights, 'config.json'), JSON.stringify({ model_type: 't5', d_model: 8, d_kv: 2, num_heads: 2 }));
    r = await run(['eval', `--model=${noWeights}`, `--run-dir=${runDir}`, '--backend=cpu']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/has no model\.safetensors/);
    r = await run(['eval', `--model=${noWeights}`, `--hypernet=${bert}`, `--run-dir=${runDir}`]);
    expect(r.err).toMatch(/has no model\.safetensors/);

    r = await run(['generate', `--hypernet=${path.join(dir, 'hn')}`, '--instruction=x', `--out=${path.join(dir, 'o')}`]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--hypernet: '.*hn' does not exist/);
    r = await run(['generate', `--hypernet=${bert}`, '--instruction=x', `--out=${path.join(dir, 'o')}`]);
    expect(r.err).toMatch(/--hypernet: '.*bert' has no hypernet_config\.json/);
    r = await run(['generate', '--instruction=x']);
    expect(r.err).toMatch(/'tagi generate' needs --hypernet, --out/);

    r = await run(['demo', `--data=${path.join(dir, 'no-sni')}`, `--run-dir=${runDir}`, '--backend=cpu']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--data: '.*no-sni' does not exist/);
    r = await run(['demo', `--data=${bert}`, `--run-dir=${runDir}`, '--backend=cpu']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is not an SNI directory/);

    r = await run(['demo', `--config=${path.join(dir, 'missing.json')}`]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--config: cannot read/);

    writeFileSync(path.join(dir, 'a-file'), 'x');
    r = await run(['demo', `--run-dir=${path.join(dir, 'a-file')}`]);
    expect(r.err).toMatch(/--run-dir: '.*a-file' is a file/);
    expect(existsSync(runDir)).toBe(false);
  });

  it('finetune asks for the teachers its losses use', async () => {
    const dir = tmp();
    const t5 = path.join(dir, 't5');
    mkdirSync(t5);
    writeFileSync(path.join(t5, 'config.json'), JSON.stringify({ model_type: 't5' }));
    writeFileSync(path.join(t5, 'model.safetensors'), '');
    let r = await run(['finetune', `--model=${t5}`, '--distill.lambda-kl=1', '--distill.kl-teacher=multitask', `--run-dir=${path.join(dir, 'r')}`]);
    expect(r.err).toMatch(
      /distils from the multitask model \(distill\.lambda-kl = 1, distill\.kl-teacher = multitask\): give --adapter=MULTITASK_ADAPTER_DIR, or --distill\.lambda-kl=0/,
    );
    r = await run([
      'finetune',
      `--model=${t5}`,
      '--distill.lambda-kl=1',
      '--distill.kl-teacher=teachers',
      '--teachers.group-by=task',
      `--run-dir=${path.join(dir, 'r')}`,
    ]);
    expect(r.err).toMatch(/distils from the task teachers \(distill\.kl-teacher = teachers\): give --teachers-dir=DIR, or --distill\.kl-teacher=multitask/);
    r = await run([
      'finetune',
      `--model=${t5}`,
      '--distill.lambda-kl=1',
      '--distill.kl-teacher=teachers',
      '--teachers.group-by=category',
      `--run-dir=${path.join(dir, 'r')}`,
    ]);
    expect(r.err).toMatch(/distill\.klTeacher: 'teachers' imitates each task's own teacher on the student's input, which needs teachers\.groupBy 'task'/);
    r = await run(['finetune', `--model=${t5}`, '--distill.lambda-kl=0', '--distill.lambda-ins=0.1', `--run-dir=${path.join(dir, 'r')}`]);
    expect(r.err).toMatch(/aligns with the LoRA teachers \(distill\.lambda-ins = 0\.1\): give --teachers-dir=DIR/);
    expect(existsSync(path.join(dir, 'r'))).toBe(false);
  });

  it('--resume needs an existing run and refuses config changes', async () => {
    const dir = tmp();
    let r = await run(['demo', '--resume']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--resume needs --run-dir/);
    r = await run(['demo', '--resume', `--run-dir=${dir}`]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/config\.json not found/);
    r = await run(['demo', '--resume', `--run-dir=${dir}`, '--seed=3']);
    expect(r.err).toMatch(/--resume continues the saved config of the run \(only learning rates and --optim\.max-grad-norm may change\); remove --seed\n/);
    r = await run(['demo', '--resume', `--run-dir=${dir}`, '--base.train.lr=1e-3', '--base.train.steps=3']);
    expect(r.err).toMatch(/may change\); remove --base\.train\.steps\n/); // the lr may change, the step count may not
    expect(readdirSync(dir)).toEqual([]);
  });

  it('inspect: unknown dirs are refused', async () => {
    const dir = tmp();
    let r = await run(['inspect', path.join(dir, 'nope')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no such file or directory/);
    r = await run(['inspect', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is not a model dir/);
    r = await run(['inspect']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/needs a PATH/);
  });
});

describe('the one error path', () => {
  it('turns OS errors into one line naming the path and what to do (exit 2); bugs stay internal errors (exit 1)', () => {
    const os = (code: string, syscall: string, p: string) => Object.assign(new Error(`${code}: x`), { code, syscall, path: p });
    expect(osErrorMessage(os('EACCES', 'mkdir', '/ro/run') as NodeJS.ErrnoException & { code: string })).toBe(
      "cannot create directory '/ro/run': permission denied (EACCES); choose a location you can write (--run-dir / --out) or fix its permissions",
    );
    for (const code of ['ENOENT', 'ENOTDIR', 'EACCES', 'EEXIST', 'ENOSPC', 'EROFS', 'EISDIR']) {
      const r = explainError(os(code, 'open', '/some/file'));
      expect(r.exitCode, code).toBe(2);
      expect(r.message, code).toMatch(new RegExp(`^cannot open '/some/file': .* \\(${code}\\); \\w`));
      expect(r.message).not.toMatch(/\n/);
    }
    expect(explainError(Object.assign(new Error('x'), { name: 'SafetensorsError' }))).toMatchObject({ exitCode: 2, message: 'SafetensorsError: x' });
    const bug = explainError(new TypeError('undefined is not a function'));
    expect(bug.exitCode).toBe(1);
    expect(bug.message).toMatch(/^internal error \(please report it\): TypeError: undefined is not a function\n {4}at /);
  });
});
