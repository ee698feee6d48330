// Command-line parsing without dependencies: `tagi <command> [positionals] [--flag[=value]]...`.
import { CliError } from '../common/errors.js';

export interface ParsedArgs {
  readonly command: string | undefined;
  readonly positionals: readonly string[];
  /** Flags in order, names as typed (without the dashes); a bare boolean flag has value `true`. */
  readonly flags: readonly (readonly [string, string | true])[];
}

/** Flags that never take a separate value (`--resume other` keeps `other` positional). */
export const BOOLEAN_FLAGS = new Set(['help', 'h', 'resume', 'version', 'json', 'force']);

export function parseArgs(argv: readonly string[]): ParsedArgs {
  let command: string | undefined;
  const positionals: string[] = [];
  const flags: [string, string | true][] = [];
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i] as string;
    if (tok === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (tok.startsWith('--') || tok === '-h') {
      const body = tok === '-h' ? 'help' : tok.slice(2);
      if (body.length === 0) throw new CliError(`empty flag '${tok}'`);
      const eq = body.indexOf('=');
      if (eq >= 0) {
        flags.push([body.slice(0, eq), body.slice(eq + 1)]);
      } else if (BOOLEAN_FLAGS.has(body)) {
        flags.push([body, true]);
      } else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) flags.push([body, true]);
        else {
          flags.push([body, next]);
          i++;
        }
      }
    } else if (tok.startsWith('-') && tok.length > 1 && !/^-\d/.test(tok)) {
      throw new CliError(`unknown short option '${tok}'; options are written --name=value (see --help)`);
    } else if (command === undefined) {
      command = tok;
    } else {
      positionals.push(tok);
    }
  }
  return { command, positionals, flags };
}
