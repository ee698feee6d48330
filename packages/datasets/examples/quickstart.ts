// Runnable quickstart (exercised by test/examples.test.ts): the embedded suite, the TAGI split of one
// held-out task, and the same data through the registry.
// Run: npx tsx examples/quickstart.ts
import { PROMPT_SETTINGS, embeddedSuite, loadDataset, tagiExamples } from '../src/index.js';

export async function quickstart(): Promise<{ heldOutTask: string; instruction: string; studentInput: string; output: string; registryTasks: number }> {
  const suite = embeddedSuite({ seed: 0 });
  const task = suite.heldOut[0];
  if (task === undefined) throw new Error('the suite has no held-out task');
  const row = tagiExamples(task, PROMPT_SETTINGS['Def+2Pos'])[0];
  if (row === undefined) throw new Error(`task ${task.taskId} has no instance`);
  const viaRegistry = await loadDataset('embedded', { seed: 0 });
  return {
    heldOutTask: task.taskId,
    instruction: row.instruction,
    studentInput: row.studentInput,
    output: row.outputs[0] ?? '',
    registryTasks: viaRegistry.kind === 'tasks' ? viaRegistry.tasks.length : 0,
  };
}

if (process.argv[1]?.endsWith('quickstart.ts') === true) {
  const r = await quickstart();
  console.log(`held-out task ${r.heldOutTask}\n--- hypernetwork reads ---\n${r.instruction}--- student reads ---\n${r.studentInput}\n--- expected ---\n${r.output}\n(${r.registryTasks} training tasks via loadDataset('embedded'))`);
}
