// Command-line options of the playground server.

export class CliArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliArgsError';
  }
}

export interface PlaygroundArgs {
  readonly host: string;
  readonly port: number;
  /** Extra roots from --root (repeatable), in order. */
  readonly roots: string[];
  /** Skip the default `runs/` root. */
  readonly noDefaultRoot: boolean;
  /** Tokens each model generates per answer. */
  readonly maxNewTokens: number;
  readonly backend: string | undefined;
  /** Use model weights holding NaN/Inf (with a warning) instead of refusing them. */
  readonly allowNonFinite: boolean;
  readonly help: boolean;
}

export const USAGE = `tagi-playground [options]

Serves the TAGI playground (a web page and a JSON API) from this machine. The models run in this
Node process (and, on request, TAGI in the page too). Instructions and inputs are prepared as the
run's training prepared them: its prompt format and token budgets, longer texts cut with a warning.

  --host HOST                   address to bind (default 127.0.0.1; anything else exposes the models to the network)
  --port N                      port (default 5178; 0 = any free port)
  --root DIR                    directory whose run dirs and HF T5 dirs may be opened (repeatable; default: ./runs)
  --no-default-root             do not add ./runs
  --max-new-tokens N            tokens each model generates per answer (default 32)
  --backend NAME                tensor backend: auto | tensorflow | wasm | cpu (default auto)
  --allow-non-finite            use a model, adapter or hypernetwork whose weights hold NaN/Inf (logged)
                                instead of refusing it
  --help                        this text

Requests to the API from pages of other origins (an Origin or Sec-Fetch-Site header naming another
site) are refused with 403; the page served here and clients that send no Origin work as before.
`;

/** Every flag, for suggestions; those in NO_VALUE take no value. */
const FLAGS = ['--host', '--port', '--root', '--no-default-root', '--max-new-tokens', '--backend', '--allow-non-finite', '--help'] as const;
const NO_VALUE = new Set(['--no-default-root', '--allow-non-finite', '--help', '-h']);
/** Flags of earlier versions, and why they are gone (said instead of "unknown argument"). */
const REMOVED: Record<string, string> = {
  '--max-instruction-tokens':
    "--max-instruction-tokens was removed: an instruction now gets the run's own token budget (its hypernetwork's max_instruction_length), and a longer one is cut with a warning, as training cuts it; drop the flag",
};

/** Edit distance counting a swap of two neighbours as one edit ('--prot' is 1 from '--port'), for "did you mean". */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known flag closest to `given` when it is close enough to be a typo (or a prefix of exactly one flag). */
export function suggestFlag(given: string): string | undefined {
  const bare = `--${given.replace(/^-+/, '')}`;
  const prefixed = FLAGS.filter((f) => f.startsWith(bare));
  if (bare.length > 3 && prefixed.length === 1) return prefixed[0];
  let best: { flag: string; d: number } | undefined;
  for (const flag of FLAGS) {
    const d = editDistance(bare, flag);
    if (!best || d < best.d) best = { flag, d };
  }
  // about a third of the letters wrong at most: '--prot' -> '--port', but '--x' suggests nothing
  return best && best.d <= Math.max(1, Math.ceil((best.flag.length - 2) / 3)) ? best.flag : undefined;
}

function unknownArgument(raw: string): CliArgsError {
  if (!raw.startsWith('-')) {
    return new CliArgsError(`unexpected argument ${JSON.stringify(raw)}: the playground takes no positional arguments (did you mean --root ${raw}?)`);
  }
  const flag = raw.includes('=') ? raw.slice(0, raw.indexOf('=')) : raw;
  const removed = REMOVED[flag];
  if (removed) return new CliArgsError(removed);
  const hint = suggestFlag(flag);
  return new CliArgsError(`unknown argument ${JSON.stringify(flag)}${hint ? ` (did you mean ${hint}?)` : ''}; see --help for the options`);
}

export function parseArgs(argv: readonly string[]): PlaygroundArgs {
  let host = '127.0.0.1';
  let port = 5178;
  const roots: string[] = [];
  let noDefaultRoot = false;
  let maxNewTokens = 32;
  let backend: string | undefined;
  let allowNonFinite = false;
  let help = false;
  const int = (flag: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min || n > max)
      throw new CliArgsError(`${flag}: expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.indexOf('=');
    const flag = raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw;
    const inline = raw.startsWith('--') && eq > 0 ? raw.slice(eq + 1) : undefined;
    // a flag's value is the next argument unless that is itself a flag ('--root --port 1' is a missing value)
    const value = (): string | undefined => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) return undefined;
      i++;
      return next;
    };
    if (inline !== undefined && NO_VALUE.has(flag)) throw new CliArgsError(`${flag} takes no value, got ${JSON.stringify(raw)}`);
    switch (flag) {
      case '--host': {
        const v = value();
        if (!v) throw new CliArgsError('--host: expected an address');
        host = v;
        break;
      }
      case '--port':
        port = int('--port', value(), 0, 65535);
        break;
      case '--root': {
        const v = value();
        if (!v) throw new CliArgsError('--root: expected a directory');
        roots.push(v);
        break;
      }
      case '--no-default-root':
        noDefaultRoot = true;
        break;
      case '--max-new-tokens':
        maxNewTokens = int('--max-new-tokens', value(), 1, 512);
        break;
      case '--backend': {
        const v = value();
        if (!v || !['auto', 'tensorflow', 'wasm', 'cpu'].includes(v))
          throw new CliArgsError(`--backend: expected auto | tensorflow | wasm | cpu, got ${JSON.stringify(v)}`);
        backend = v;
        break;
      }
      case '--allow-non-finite':
        allowNonFinite = true;
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      default:
        throw unknownArgument(raw);
    }
  }
  return { host, port, roots, noDefaultRoot, maxNewTokens, backend, allowNonFinite, help };
}

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || /^127\./.test(host);
}
