// `tagi` as a function: parse and check the invocation (nothing is loaded or created before that), run
// the command, and turn any failure into one message on stderr and an exit code (errors.ts).
import { explainError } from '../common/errors.js';
import { prepareInputs } from './inputs.js';
import { parseInvocation } from './invocation.js';
import type { CliIO } from '../common/io.js';

/** Runs the CLI; returns the exit code. */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  try {
    const inv = parseInvocation(argv, io);
    if ('help' in inv) {
      io.stdout.write(`${inv.help}\n`);
      return 0;
    }
    // the commands (and the model libraries they load) only once the invocation is known to be good
    const { setNonFiniteWeights } = await import('../data/models.js');
    const allow = 'allowNonFinite' in inv && inv.allowNonFinite === true;
    setNonFiniteWeights(allow ? { allow, warn: (m) => io.stderr.write(`tagi: warning: ${m}\n`) } : { allow });
    const { runCommand } = await import('./commands.js');
    await runCommand(await prepareInputs(inv)); // Hub ids resolved, vocabulary checked: before any run dir exists
    return 0;
  } catch (e) {
    const { message, exitCode } = explainError(e);
    io.stderr.write(`tagi: ${message}\n`);
    return exitCode;
  }
}
