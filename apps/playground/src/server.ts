// The `tagi-playground` bin (`npx @tagi/playground`, `node apps/playground/dist/server.js`, `pnpm playground`).
// With a backend that may be native TensorFlow (auto, the default, or tensorflow) the server runs as a child of
// this process with TensorFlow's C++ start-up lines filtered out of its stderr (@tagi/tensor-core/native-logs;
// the library writes them to the process's file descriptor 2 when the first model loads), so the playground's
// own lines are all a user sees; `--verbose` or the user's TF_CPP_MIN_LOG_LEVEL shows TensorFlow's lines.
import { exitLikeChild, followQuietLauncher, runQuietChild, wantsQuietRelaunch } from '@tagi/tensor-core/native-logs';

const given = process.argv.slice(2);
const verbose = given.includes('--verbose');
const argv = given.filter((a) => a !== '--verbose');
if (verbose && process.env['TF_CPP_MIN_LOG_LEVEL'] === undefined) process.env['TF_CPP_MIN_LOG_LEVEL'] = '0'; // TensorFlow's own default: every line
const backendAt = argv.findIndex((a) => a === '--backend' || a.startsWith('--backend='));
const backend = backendAt < 0 ? 'auto' : argv[backendAt]!.includes('=') ? argv[backendAt]!.slice('--backend='.length) : argv[backendAt + 1];
const mayLoadTensorFlow = (backend === 'auto' || backend === 'tensorflow') && !argv.some((a) => a === '--help' || a === '-h');

if (mayLoadTensorFlow && wantsQuietRelaunch({ verbose })) {
  exitLikeChild(await runQuietChild({ args: argv }));
} else {
  // a filtered child whose launcher was killed outright goes with it (its port is then free again)
  followQuietLauncher(() => process.kill(process.pid, 'SIGKILL'));
  (await import('./serve')).serve(argv);
}
