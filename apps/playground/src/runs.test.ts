import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDoneRunState } from '../test/synthetic-run';
import { RunDirError, listRunDirs, parseMetricsJsonl, readRunDir } from './runs';

describe('parseMetricsJsonl', () => {
  it('splits numbers (curves) from strings (labels) and skips blank lines', () => {
    const recs = parseMetricsJsonl('{"step":1,"loss":2.5,"stage":"teachers"}\n\n{"step":2,"loss":2.0,"stage":"teachers","note":null}\n');
    expect(recs).toEqual([
      { line: 1, values: { step: 1, loss: 2.5 }, labels: { stage: 'teachers' } },
      { line: 3, values: { step: 2, loss: 2.0 }, labels: { stage: 'teachers' } },
    ]);
  });
  it("flattens one nested level (the trainer's losses) keeping the inner names", () => {
    const line = '{"stage":"base","step":1,"totalSteps":4,"losses":{"loss":12.9,"gradNorm":10.1,"step":7},"lr":0,"time":"2026-11-24T08:31:34.479Z"}';
    expect(parseMetricsJsonl(line)).toEqual([
      {
        line: 1,
        values: { step: 1, totalSteps: 4, loss: 12.9, gradNorm: 10.1, 'losses.step': 7, lr: 0 },
        labels: { stage: 'base', time: '2026-11-24T08:31:34.479Z' },
      },
    ]);
  });
  it('names the bad line, but tolerates a half-written last line', () => {
    expect(() => parseMetricsJsonl('{"a":1}\n{oops\n{"a":2}\n', 'm.jsonl')).toThrow(/m\.jsonl: line 2: not JSON/);
    expect(() => parseMetricsJsonl('[1,2]\n{"a":1}\n')).toThrow(/line 1: expected a JSON object/);
    expect(parseMetricsJsonl('{"a":1}\n{"a":2, "b"')).toHaveLength(1);
  });
});

describe('run dirs', () => {
  let root: string;
  beforeAll(() => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-runs-')));
    const old = path.join(root, 'demo-old');
    const young = path.join(root, 'nested', 'demo-new');
    fs.mkdirSync(path.join(old, 'checkpoints', 'base'), { recursive: true });
    fs.mkdirSync(path.join(young, 'checkpoints', 'hypernet'), { recursive: true });
    fs.mkdirSync(path.join(young, 'checkpoints', 'teachers', 'task-a'), { recursive: true });
    fs.writeFileSync(path.join(old, 'metrics.jsonl'), '{"step":1,"loss":1}\n');
    fs.utimesSync(path.join(old, 'metrics.jsonl'), new Date(2020, 1, 1), new Date(2020, 1, 1));
    fs.writeFileSync(path.join(young, 'results.json'), '{"rows":[]}');
    fs.writeFileSync(path.join(old, 'checkpoints', 'base', 'config.json'), '{}');
    fs.writeFileSync(path.join(old, 'checkpoints', 'base', 'model.safetensors'), '');
    fs.writeFileSync(path.join(young, 'checkpoints', 'hypernet', 'hypernet_config.json'), '{}');
    fs.writeFileSync(path.join(young, 'checkpoints', 'teachers', 'task-a', 'adapter_config.json'), '{}');
    fs.mkdirSync(path.join(root, 'not-a-run'));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('lists run dirs newest first', () => {
    expect(listRunDirs([root]).map((r) => r.name)).toEqual(['demo-new', 'demo-old']);
  });

  it("lists a run's artefacts by role from trainer_state.json, never from directory names or marker files", async () => {
    const young = path.join(root, 'nested', 'demo-new');
    // without a run state nothing is guessed, however the dirs are named
    expect(readRunDir(young).artifacts).toEqual([]);
    expect(readRunDir(young).runState).toMatch(/no trainer_state\.json/);
    await writeDoneRunState(
      young,
      [
        { role: 'hypernet-tagi', kind: 'hypernet', path: 'checkpoints/hypernet' },
        { role: 'teacher', kind: 'peft', path: 'checkpoints/teachers/task-a', name: 'task-a' },
      ],
      [{ role: 'base-model', kind: 't5', path: path.join(root, 'demo-old', 'checkpoints', 'base') }],
    );
    const details = readRunDir(young);
    expect(details.runState).toBeUndefined();
    expect(details.artifacts.map((a) => [a.role, a.kind, a.name, path.relative(root, a.dir)])).toEqual([
      ['base-model', 't5', undefined, 'demo-old/checkpoints/base'],
      ['hypernet-tagi', 'hypernet', undefined, 'nested/demo-new/checkpoints/hypernet'],
      ['teacher', 'peft', 'task-a', 'nested/demo-new/checkpoints/teachers/task-a'],
    ]);
    expect(listRunDirs([root]).map((r) => r.name)).toContain('demo-new');
  });

  it('reads a version-1 run state as a problem to show, not an error: the curves stay readable', () => {
    const old = path.join(root, 'v1');
    fs.mkdirSync(old);
    fs.writeFileSync(path.join(old, 'metrics.jsonl'), '{"step":1,"loss":1}\n');
    fs.writeFileSync(path.join(old, 'trainer_state.json'), JSON.stringify({ version: 1, configHash: 'x', stages: {} }));
    const details = readRunDir(old);
    expect(details.metrics).toHaveLength(1);
    expect(details.artifacts).toEqual([]);
    expect(details.runState).toMatch(/trainer_state\.json: format: written by an older tagi \(run-state version 1, no roles\)/);
    fs.writeFileSync(
      path.join(old, 'trainer_state.json'),
      JSON.stringify({
        format: 'tagi-run',
        version: 2,
        command: 'demo',
        configHash: 'x',
        inputs: [],
        stages: { base: { status: 'finished', step: 1, totalSteps: 1 } },
      }),
    );
    expect(readRunDir(old).runState).toMatch(/stages\.base\.status: expected 'running' or 'done', got "finished"/);
  });

  it('reads a run dir and names a broken results.json', () => {
    const details = readRunDir(path.join(root, 'demo-old'));
    expect(details.metrics).toHaveLength(1);
    expect(details.results).toBeUndefined();
    fs.writeFileSync(path.join(root, 'demo-old', 'results.json'), '{broken');
    expect(() => readRunDir(path.join(root, 'demo-old'))).toThrow(RunDirError);
    expect(() => readRunDir(path.join(root, 'demo-old'))).toThrow(/results\.json: not valid JSON/);
  });

  it('by default reads only files that resolve inside the run dir (a results.md -> /etc/passwd symlink is refused)', () => {
    const run = path.join(root, 'linked');
    fs.mkdirSync(run);
    fs.writeFileSync(path.join(run, 'metrics.jsonl'), '');
    fs.symlinkSync('/etc/passwd', path.join(run, 'results.md'));
    expect(() => readRunDir(run)).toThrow(/results\.md.*symlink to a file outside/);
    fs.rmSync(path.join(run, 'results.md'));
    // trainer_state.json is a run file like the others
    fs.symlinkSync('/etc/passwd', path.join(run, 'trainer_state.json'));
    expect(() => readRunDir(run)).toThrow(/trainer_state\.json.*symlink to a file outside/);
    expect(() => readRunDir(run)).not.toThrow(/root:/);
    fs.rmSync(path.join(run, 'trainer_state.json'));
    fs.writeFileSync(path.join(run, 'own.md'), 'mine\n');
    fs.symlinkSync(path.join(run, 'own.md'), path.join(run, 'results.md'));
    expect(readRunDir(run).resultsMarkdown).toBe('mine\n');
    // a dangling symlink is an absent file
    fs.symlinkSync(path.join(run, 'nowhere.json'), path.join(run, 'results.json'));
    expect(readRunDir(run).results).toBeUndefined();
  });
});
