import { describe, expect, it } from 'vitest';
import { CliArgsError, editDistance, isLoopback, parseArgs, suggestFlag } from './cli-args';

describe('parseArgs', () => {
  it('defaults to loopback, port 5178, no extra roots', () => {
    expect(parseArgs([])).toEqual({
      host: '127.0.0.1',
      port: 5178,
      roots: [],
      noDefaultRoot: false,
      maxNewTokens: 32,
      backend: undefined,
      allowNonFinite: false,
      help: false,
    });
  });
  it('reads repeatable --root, --port 0 and --flag=value forms', () => {
    const a = parseArgs(['--root', 'a', '--root=b', '--port=0', '--host', '::1', '--max-new-tokens=8', '--backend=cpu', '--allow-non-finite']);
    expect(a).toMatchObject({ roots: ['a', 'b'], port: 0, host: '::1', maxNewTokens: 8, backend: 'cpu', allowNonFinite: true });
  });
  it.each([
    [['--port', '70000'], /--port: expected an integer in \[0, 65535\]/],
    [['--port'], /--port: expected an integer/],
    [['--root'], /--root: expected a directory/],
    [['--backend', 'gpu'], /--backend: expected auto \| tensorflow \| wasm \| cpu/],
    [['--what'], /unknown argument "--what"/],
    [['--allow-non-finite=yes'], /--allow-non-finite takes no value/],
    // the playground's own instruction limit is gone: the run's budget and training's cut apply
    [
      ['--max-instruction-tokens', '64'],
      /^--max-instruction-tokens was removed: an instruction now gets the run's own token budget .*cut with a warning, as training cuts it; drop the flag$/,
    ],
    [['--max-instruction-tokens=64'], /^--max-instruction-tokens was removed/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseArgs(argv as string[])).toThrow(CliArgsError);
    expect(() => parseArgs(argv as string[])).toThrow(message);
  });
});

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.5', false],
  ])('%s -> %s', (host, expected) => expect(isLoopback(host)).toBe(expected));
});

describe('suggestFlag', () => {
  it.each([
    ['--prot', '--port'],
    ['--roots', '--root'],
    ['--hots', '--host'],
    ['-port', '--port'],
    ['--no-defualt-root', '--no-default-root'],
    ['--max-new', '--max-new-tokens'],
    ['--backed', '--backend'],
    ['--x', undefined],
    ['--verbose', undefined],
  ])('%s -> %s', (given, expected) => expect(suggestFlag(given)).toBe(expected));

  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('--prot', '--port')).toBe(1);
    expect(editDistance('abc', 'abc')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});
