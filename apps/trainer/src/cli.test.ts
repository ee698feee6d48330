// The CLI in-process: help, argument and config errors (clear message, non-zero exit, nothing written),
// inspect, and bad model/hypernet/adapter paths.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from './args.js';
import { main } from './main.js';
import { captureIO } from './test-helpers.js';

async function run(argv: string[]) {
  const io = captureIO();
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
    for (const argv of [['--help'], ['demo', '--help'], ['inspect', '-h'], ['help', 'generate'], ['eval', '--help']]) {
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

  it('unknown preset, key or option → exit 2 with suggestion, nothing written', async () => {
    const dir = tmp();
    const runDir = path.join(dir, 'run');
    let r = await run(['demo', '--preset=tinny', `--run-dir=${runDir}`]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown preset 'tinny' \(did you mean 'tiny'/);
    r = await run(['demo', '--base.train.stpes=3', `--run-dir=${runDir}`]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown option '--base.train.stpes' \(did you mean '--base.train.steps'/);
    r = await run(['demo', '--lambda-kl=3', `--run-dir=${runDir}`]);
    expect(r.err).toMatch(/did you mean '--distill.lambda-kl'/);
    r = await run(['demo', '--base.train.steps=abc', `--run-dir=${runDir}`]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/base\.train\.steps: expected a number, got 'abc'/);
    r = await run(['demo', '--backend=gpu', `--run-dir=${runDir}`]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/backend: /);
    expect(existsSync(runDir)).toBe(false);
  });

  it('missing paths and a non-T5 model dir → exit 2 naming the flag, nothing written', async () => {
    const dir = tmp();
    const runDir = path.join(dir, 'run');
    let r = await run(['eval', `--model=${path.join(dir, 'nope')}`, `--run-dir=${runDir}`, '--backend=cpu']);
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

    r = await run(['generate', `--hypernet=${path.join(dir, 'hn')}`, `--run-dir=${runDir}`, '--backend=cpu']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--hypernet: '.*hn' does not exist/);

    r = await run(['demo', `--data=${path.join(dir, 'no-sni')}`, `--run-dir=${runDir}`, '--backend=cpu']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--data: '.*no-sni' does not exist/);
    r = await run(['demo', `--data=${bert}`, `--run-dir=${runDir}`, '--backend=cpu']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is not an SNI directory/);

    r = await run(['demo', `--config=${path.join(dir, 'missing.json')}`]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--config: cannot read/);
    expect(existsSync(runDir)).toBe(false);
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
    expect(r.err).toMatch(/--resume continues the saved config/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('inspect: unknown dirs are refused, run dirs summarised', async () => {
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
