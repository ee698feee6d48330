// Which stage-1 teacher the Try tab compares an example's generated adapter with. A run trains one teacher
// per training task (the default) or per category; a held-out task has no teacher of its own, so the page
// takes the closest one the run has and says which it took.

/** A teacher adapter the run offers: its name as trainer_state.json gives it (a task id or a category). */
export interface TeacherOption {
  readonly name: string;
  readonly value: string;
}

export interface TeacherChoice {
  readonly value: string;
  readonly name: string;
  /** 'own': the example's task has a teacher; 'category': one teacher per category; 'nearest': a training task's of the same category. */
  readonly why: 'own' | 'category' | 'nearest';
}

const parts = (id: string): string[] => id.split(/[_\-.\s]+/).filter((p) => p.length > 0);

/** Whether a task id names `category` as its leading words (after one prefix word at most, e.g. `cmp_class_map_…`). */
function namesCategory(id: string, category: string): boolean {
  const p = parts(id);
  const c = parts(category);
  const at = (o: number) => c.length > 0 && c.every((w, i) => p[o + i] === w);
  return at(0) || at(1);
}

/** Words two task ids share, counted once each. */
function shared(a: string, b: string): number {
  const mine = new Set(parts(a));
  return new Set(parts(b).filter((p) => mine.has(p))).size;
}

/**
 * The teacher for an example of `task` (of `category`, when the suite names one): the task's own, else its
 * category's, else the teacher whose task id shares the most words with `task` among the tasks of the same
 * category (ties: the first in the run's order). Undefined when the run has no teacher to compare with.
 */
export function chooseTeacher(
  task: string,
  category: string | undefined,
  teachers: readonly TeacherOption[],
  categoryOf: (name: string) => string | undefined = () => undefined,
): TeacherChoice | undefined {
  const own = teachers.find((t) => t.name === task);
  if (own) return { value: own.value, name: own.name, why: 'own' };
  if (category === undefined) return undefined;
  const cat = teachers.find((t) => t.name === category);
  if (cat) return { value: cat.value, name: cat.name, why: 'category' };
  let best: TeacherOption | undefined;
  let bestScore = 0;
  for (const t of teachers) {
    const c = categoryOf(t.name);
    const sameCategory = c !== undefined ? c === category : namesCategory(t.name, category);
    if (!sameCategory) continue;
    const s = shared(task, t.name);
    if (s > bestScore) {
      best = t;
      bestScore = s;
    }
  }
  return best ? { value: best.value, name: best.name, why: 'nearest' } : undefined;
}
