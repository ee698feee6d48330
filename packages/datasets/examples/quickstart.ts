// Runnable quickstart (exercised by test/examples.test.ts): the compositional suite, the TAGI split of
// one held-out task through the one instruction -> input function, and the same data through the registry.
// Run: npx tsx examples/quickstart.ts
import { embeddedSuite, loadDataset, prepareInstruction } from '../src/index.js';

export async function quickstart(): Promise<{
  heldOutTask: string;
  instruction: string;
  studentInput: string;
  concatenated: string;
  output: string;
  registryTasks: number;
}> {
  const suite = embeddedSuite({ seed: 0 });
  const task = suite.heldOutCombination[0];
  const inst = task?.instances[0];
  if (task === undefined || inst === undefined) throw new Error('the suite has no held-out instance');
  const prepared = prepareInstruction(task, 'Def'); // once per task
  const x = prepared.forInput(inst.input);
  const viaRegistry = await loadDataset('compositional-v1', { seed: 0 });
  return {
    heldOutTask: task.taskId,
    instruction: prepared.instruction,
    studentInput: x.studentInput,
    concatenated: x.concatenated,
    output: inst.outputs[0] ?? '',
    registryTasks: viaRegistry.kind === 'tasks' ? viaRegistry.tasks.length : 0,
  };
}

if (process.argv[1]?.endsWith('quickstart.ts') === true) {
  const r = await quickstart();
  console.log(
    `held-out task ${r.heldOutTask}\n--- hypernetwork reads ---\n${r.instruction}--- student reads ---\n${r.studentInput}\n--- instruction-concatenated model reads ---\n${r.concatenated}\n--- expected ---\n${r.output}\n(${r.registryTasks} training tasks via loadDataset('compositional-v1'))`,
  );
}
