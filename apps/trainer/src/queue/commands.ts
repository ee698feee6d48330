// The enqueuing commands: `tagi teachers --queue` and `tagi eval --queue`. They open the run as the
// single-process commands do (commands.ts calls here instead of its own body), load the data (cheap),
// and hand the per-task work to the queue. The multitask LoRA of `tagi teachers` is one job over every
// task, so it trains here, after the teachers, as in the single process.
import type { TaskData } from '../data/tasks.js';
import { loadTaskData, modelTokenizer } from '../data/tasks.js';
import { CliError } from '../common/errors.js';
import { loadBaseModel } from '../data/models.js';
import { isP3Dir } from '../data/sources.js';
import { writeCurves } from '../results/results.js';
import type { Run } from '../run/run.js';
import { trainMultitask } from '../stages/teachers.js';
import type { QueueTarget } from './cli.js';
import { queueEval } from './eval.js';
import type { JobData } from './jobs.js';
import { queueTeachers } from './teachers.js';

const BACKENDS: readonly string[] = ['tensorflow', 'wasm', 'cpu'];

async function loadData(run: Run): Promise<TaskData> {
  const data = await loadTaskData(run.config, (m) => run.progress.info(m));
  run.progress.info(
    `data: ${data.source}: ${data.train.length} training tasks (${data.trainExamples.length} instances); evaluation ${data.evalSets.map((s) => `${s.split} ${s.tasks.length} tasks / ${s.tasks.reduce((n, t) => n + t.instances.length, 0)} instances`).join(', ')}`,
  );
  return data;
}

/** Runs `tagi teachers|eval` of an opened run with its per-task jobs on the queue `q`. */
export async function runQueued(command: string, run: Run, backend: string, t0: number, load0: number[] | null, q: QueueTarget): Promise<void> {
  // workers select the same backend: a teacher equals the single-process one only on the same backend
  if (!BACKENDS.includes(backend)) throw new CliError(`--queue: backend '${backend}' cannot be asked of workers (expected ${BACKENDS.join(', ')})`);
  const b = backend as JobData['backend'];
  // P3 rank classification (--data P3_DIR) has no per-task jobs yet: say so instead of reading it as tasks
  if (command === 'eval' && isP3Dir(run.config.data))
    throw new CliError(`--queue: 'tagi eval --data=${run.config.data}' (P3 rank classification) runs in one process; drop --queue`);
  const data = await loadData(run);
  if (command === 'teachers') {
    await queueTeachers(run, data, q, b);
    const model = await loadBaseModel(run.config.model as string);
    try {
      await trainMultitask(run, model, data, modelTokenizer(run.config.model)).then((a) => a.dispose());
    } finally {
      model.dispose();
    }
    await writeCurves(run.dir);
  } else if (command === 'eval') {
    await queueEval(run, data, q, b, t0, load0);
  } else {
    throw new CliError(`'tagi ${command}' does not use --queue (an option of: tagi teachers, tagi eval, tagi worker)`);
  }
}
