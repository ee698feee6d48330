import { describe, expect, it } from 'vitest';
import { chooseTeacher } from '../src/page/teacher-choice.js';

const opt = (name: string) => ({ name, value: `/runs/r/teachers/${name}` });

describe("chooseTeacher (the Try tab's teacher for an example)", () => {
  const perTask = [
    'cmp_class_map_first_itself_direction',
    'cmp_class_map_first_opposite_direction',
    'cmp_word_question_last_itself_time',
    'cmp_class_map_last_itself_person',
  ].map(opt);

  it("takes the example's own task teacher when the run has one", () => {
    expect(chooseTeacher('cmp_word_question_last_itself_time', 'word_question', perTask)).toEqual({ ...opt('cmp_word_question_last_itself_time'), why: 'own' });
  });

  it('takes the category teacher of a run with one teacher per category', () => {
    const perCategory = ['class_map', 'word_question'].map(opt);
    expect(chooseTeacher('cmp_class_map_last_opposite_time', 'class_map', perCategory)).toEqual({ ...opt('class_map'), why: 'category' });
  });

  it('takes the training task of the same category sharing the most words with a held-out task', () => {
    const c = chooseTeacher('cmp_class_map_last_itself_direction', 'class_map', perTask);
    expect(c?.why).toBe('nearest');
    // shares class, map, itself, direction with the first; class, map, last, itself with the fourth: the first wins the tie by order
    expect(c?.name).toBe('cmp_class_map_first_itself_direction');
    expect(chooseTeacher('cmp_class_map_last_itself_person', 'class_map', perTask.slice(0, 3).concat(opt('cmp_class_map_last_itself_persons')))?.name).toBe(
      'cmp_class_map_last_itself_persons',
    );
  });

  it('never crosses categories, and gives none when nothing fits', () => {
    expect(chooseTeacher('cmp_neighbor_map_x', 'neighbor_map', perTask)).toBeUndefined();
    // 'neighbor' is a word of the category word_neighbor, not that category
    expect(chooseTeacher('cmp_neighbor_first_x', 'neighbor', [opt('cmp_word_neighbor_first_x')])).toBeUndefined();
    expect(chooseTeacher('cmp_word_neighbor_last_x', 'word_neighbor', [opt('cmp_word_neighbor_first_x')])?.why).toBe('nearest');
    expect(chooseTeacher('task_1', undefined, perTask)).toBeUndefined();
    expect(chooseTeacher('anything', 'class_map', [])).toBeUndefined();
    // with the categories known, a name that merely contains the category does not count
    expect(chooseTeacher('cmp_class_map_a', 'class_map', [opt('x_class_map_y')], () => 'neighbor_map')).toBeUndefined();
  });
});
