// The `tagi` bin. A command that loads TensorFlow runs as a child of this process with TensorFlow's start-up
// logging filtered out of its stderr (@tagi/tensor-core/native-logs: the native library writes to the process's
// file descriptor 2 before anything of ours, and Node cannot redirect that in-process), so the first line a user
// sees is ours. `--verbose` (anywhere on the line) or the user's own TF_CPP_MIN_LOG_LEVEL shows TensorFlow's lines
// as it writes them. Commands that load no TensorFlow (help, inspect, push, --backend=wasm|cpu) and `worker` (its
// process id names it in the queue) run here directly; TF_CPP_MIN_LOG_LEVEL=2 still quiets what it can for the worker.
import { exitLikeChild, runQuietChild, wantsQuietRelaunch } from '@tagi/tensor-core/native-logs';

/** Commands that load a tfjs backend (and so, where it is installed, libtensorflow). */
const LOADS_TENSORFLOW = new Set(['demo', 'experiment', 'base', 'teachers', 'pretrain', 'finetune', 'eval', 'generate']);

const given = process.argv.slice(2);
const verbose = given.includes('--verbose');
const argv = given.filter((a) => a !== '--verbose');
if (verbose && process.env['TF_CPP_MIN_LOG_LEVEL'] === undefined) process.env['TF_CPP_MIN_LOG_LEVEL'] = '0'; // TensorFlow's own default: every line
const command = argv.find((a) => !a.startsWith('-'));
// --backend=wasm|cpu never loads libtensorflow (a --config file that sets one still relaunches: harmless)
const backendAt = argv.findIndex((a) => a === '--backend' || a.startsWith('--backend='));
const backend = backendAt < 0 ? 'auto' : argv[backendAt]!.includes('=') ? argv[backendAt]!.slice('--backend='.length) : argv[backendAt + 1];
const loadsTensorFlow =
  command !== undefined && LOADS_TENSORFLOW.has(command) && backend !== 'wasm' && backend !== 'cpu' && !argv.some((a) => a === '--help' || a === '-h');

if (loadsTensorFlow && wantsQuietRelaunch({ verbose })) {
  exitLikeChild(await runQuietChild({ args: argv }));
} else {
  await (await import('./cli/cli-process.js')).runTagi(argv);
}
