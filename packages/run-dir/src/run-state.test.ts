import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RUN_STATE_FILE, type RunState, RunStateError, readRunState, runArtifacts, writeRunState } from './node.js';

const made: string[] = [];
const dir = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tagi-runstate-'));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

const state: RunState = {
  format: 'tagi-run',
  version: 2,
  command: 'demo',
  configHash: 'abc123',
  inputs: [{ role: 'base-model', kind: 't5', path: '/models/t5-small' }],
  stages: {
    teachers: { status: 'done', step: 8, totalSteps: 8, outputs: [{ role: 'teacher', kind: 'peft', path: 'teachers/sort', name: 'sort' }], seconds: 1.5 },
    base: { status: 'done', step: 4, totalSteps: 4, summary: { finalLoss: 2.5 } },
    'hypernet-tagi': {
      status: 'running',
      step: 2,
      totalSteps: 3,
      checkpoints: 'checkpoints/hypernet-tagi',
      outputs: [{ role: 'hypernet-tagi', kind: 'hypernet', path: 'hypernet-tagi' }],
    },
  },
};

describe('run state (trainer_state.json)', () => {
  it('round-trips, keeps the stage order and writes sorted, deterministic JSON', async () => {
    const d = dir();
    expect(readRunState(d)).toBeUndefined();
    await writeRunState(d, state);
    const back = readRunState(d);
    expect(back).toEqual(state);
    expect(Object.keys(back?.stages ?? {})).toEqual(['teachers', 'base', 'hypernet-tagi']);
    const text = readFileSync(path.join(d, RUN_STATE_FILE), 'utf8');
    expect(text.indexOf('"command"')).toBeLessThan(text.indexOf('"configHash"'));
    await writeRunState(d, back as RunState);
    expect(readFileSync(path.join(d, RUN_STATE_FILE), 'utf8')).toBe(text);
  });

  it('writes the bytes of the format: keys sorted at every depth except the stages, which keep the order they ran in', async () => {
    const d = dir();
    await writeRunState(d, state);
    // the reference: the sort this file has always been written with
    const sort = (v: unknown, keepOrder = false): unknown => {
      if (Array.isArray(v)) return v.map((x) => sort(x));
      if (v === null || typeof v !== 'object') return v;
      const o = v as Record<string, unknown>;
      const keys = keepOrder ? Object.keys(o) : Object.keys(o).sort();
      return Object.fromEntries(keys.map((k) => [k, sort(o[k], v === state && k === 'stages')]));
    };
    expect(readFileSync(path.join(d, RUN_STATE_FILE), 'utf8')).toBe(`${JSON.stringify(sort(state), null, 2)}\n`);
  });

  it('lists artefacts by role: inputs, then outputs of finished stages only, with absolute dirs', async () => {
    const d = dir();
    expect(runArtifacts(d, state).map((a) => [a.role, a.dir, a.stage])).toEqual([
      ['base-model', '/models/t5-small', undefined],
      ['teacher', path.join(d, 'teachers/sort'), 'teachers'],
    ]);
    expect(runArtifacts(d, state, 'hypernet-tagi')).toEqual([]); // the stage is still running
    expect(runArtifacts(d, state, 'teacher')[0]?.name).toBe('sort');
  });

  it('names every bad key of an unusable file, and refuses to write a state it could not read', async () => {
    const d = dir();
    writeFileSync(path.join(d, RUN_STATE_FILE), '{"format": "tagi-run",');
    expect(() => readRunState(d)).toThrow(/trainer_state\.json: not valid JSON/);
    writeFileSync(
      path.join(d, RUN_STATE_FILE),
      JSON.stringify({
        ...state,
        version: 3,
        stages: { base: { status: 'finished', step: -1, totalSteps: 4, outputs: [{ role: 'x', kind: 'onnx', path: 'm' }] } },
      }),
    );
    const err = (() => {
      try {
        readRunState(d);
      } catch (e) {
        return e;
      }
    })() as RunStateError;
    expect(err).toBeInstanceOf(RunStateError);
    expect(err.problems).toEqual([
      'version: expected 2, got 3',
      "stages.base.status: expected 'running' or 'done', got \"finished\"",
      'stages.base.step: expected an integer >= 0, got -1',
      'stages.base.outputs.0.kind: expected one of t5, peft, hypernet, got "onnx"',
    ]);
    writeFileSync(path.join(d, RUN_STATE_FILE), JSON.stringify({ version: 1, configHash: 'x', stages: {} }));
    expect(() => readRunState(d)).toThrow(/written by an older tagi \(run-state version 1/);
    await expect(writeRunState(d, { ...state, command: 3 } as unknown as RunState)).rejects.toThrow(/command: expected a string/);
  });
});
