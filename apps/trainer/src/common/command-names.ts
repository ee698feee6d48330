// The names of the `tagi` commands: argument checking (cli/invocation.ts) accepts them, a run dir records the
// one that made it (run/run.ts), time estimates are per command (cli/estimate.ts). Kept here, below all three.

export const COMMANDS = ['demo', 'experiment', 'base', 'teachers', 'pretrain', 'finetune', 'eval', 'generate', 'inspect', 'push', 'worker'] as const;
/** The experiments of `tagi experiment NAME`. */
export const EXPERIMENTS = ['ablations', 'paper'] as const;

export type CommandName = (typeof COMMANDS)[number];
/** Commands that write a run dir ('experiment' is `tagi experiment ablations`, 'experiment-paper' `tagi experiment paper`). */
export type RunCommand = Exclude<CommandName, 'generate' | 'inspect' | 'push' | 'worker'> | 'experiment-paper';
