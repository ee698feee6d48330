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
  readonly maxInstructionTokens: number;
  readonly backend: string | undefined;
  readonly help: boolean;
}

export const USAGE = `tagi-playground [options]

Serves the TAGI playground (a web page and a JSON API) from this machine. The models run in this
Node process; the page only draws.

  --host HOST                   address to bind (default 127.0.0.1; anything else exposes the models to the network)
  --port N                      port (default 5178; 0 = any free port)
  --root DIR                    directory whose run dirs and HF T5 dirs may be opened (repeatable; default: ./runs)
  --no-default-root             do not add ./runs
  --max-instruction-tokens N    longest instruction accepted, in tokens (default 512)
  --backend NAME                tensor backend: auto | tensorflow | wasm | cpu (default auto)
  --help                        this text
`;

export function parseArgs(argv: readonly string[]): PlaygroundArgs {
  let host = '127.0.0.1';
  let port = 5178;
  const roots: string[] = [];
  let noDefaultRoot = false;
  let maxInstructionTokens = 512;
  let backend: string | undefined;
  let help = false;
  const int = (flag: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min || n > max) throw new CliArgsError(`${flag}: expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.indexOf('=');
    const flag = raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw;
    const inline = raw.startsWith('--') && eq > 0 ? raw.slice(eq + 1) : undefined;
    const value = (): string | undefined => inline ?? argv[++i];
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
      case '--max-instruction-tokens':
        maxInstructionTokens = int('--max-instruction-tokens', value(), 1, 8192);
        break;
      case '--backend': {
        const v = value();
        if (!v || !['auto', 'tensorflow', 'wasm', 'cpu'].includes(v)) throw new CliArgsError(`--backend: expected auto | tensorflow | wasm | cpu, got ${JSON.stringify(v)}`);
        backend = v;
        break;
      }
      case '--help':
      case '-h':
        help = true;
        break;
      default:
        throw new CliArgsError(`unknown argument ${JSON.stringify(raw)} (see --help)`);
    }
  }
  return { host, port, roots, noDefaultRoot, maxInstructionTokens, backend, help };
}

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || /^127\./.test(host);
}
