// Controls that test whether a model reads its instruction: each task is given another task's instruction
// under a fixed derangement (no task keeps its own), so a score that survives the swap was not earned by
// reading the instruction. Text-to-LoRA's users found its adapters work from random descriptions; this is
// the control that exposes it.
import { EvalInputError } from './errors.js';
import { BootstrapRng } from './random.js';

/**
 * A fixed derangement of `ids`: `donor.get(id)` is the task whose instruction `id` is given. The ids are
 * put in a seeded order and each takes the instruction of the one half the list further on, so no id maps
 * to itself, every id donates exactly once, and the map depends only on the set of ids and the seed (not
 * on their order). `same(a, b)` (optional) marks two tasks whose instructions are identical: such a pair is
 * skipped, so nobody receives an instruction equal to its own.
 */
export function fixedDerangement(ids: readonly string[], seed = 0, same?: (a: string, b: string) => boolean): Map<string, string> {
  const unique = [...new Set(ids)].sort();
  if (unique.length !== ids.length) throw new EvalInputError('fixedDerangement', 'ids', 'distinct task ids', `${ids.length - unique.length} repeated`);
  if (unique.length < 2) throw new EvalInputError('fixedDerangement', 'ids', 'at least two tasks (a single task has no other instruction)', `${unique.length}`);
  const rng = new BootstrapRng(seed, 'derangement');
  const n = unique.length;
  // a seeded order of the sorted ids (depends only on the set and the seed), then cyclic shifts of it,
  // half the list first; with `same`, further seeded orders until no task receives its own instruction
  for (let attempt = 0; attempt < 200; attempt++) {
    const order = [...unique];
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.index(i + 1);
      [order[i], order[j]] = [order[j] as string, order[i] as string];
    }
    for (let t = 0; t < n - 1; t++) {
      const k = ((Math.floor(n / 2) - 1 + t) % (n - 1)) + 1; // every shift in [1, n) once, starting at n/2
      const out = new Map(order.map((id, i) => [id, order[(i + k) % n] as string]));
      if (same === undefined || [...out].every(([a, b]) => !same(a, b))) return out;
    }
  }
  throw new EvalInputError(
    'fixedDerangement',
    'ids',
    'tasks whose instructions differ enough to be swapped (no derangement found that gives every task an instruction other than its own)',
    `${n} tasks`,
  );
}
