// The `tagi` bin. Ctrl-C aborts the signal the training loop watches (it saves a checkpoint and exits
// with 130); a second Ctrl-C exits at once.
import { main } from './main.js';

const controller = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts++;
  if (interrupts > 1) process.exit(130);
  process.stderr.write('\ntagi: interrupt received, saving a checkpoint after the current step (Ctrl-C again to quit now)\n');
  controller.abort();
});

const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, signal: controller.signal });
process.exitCode = code;
