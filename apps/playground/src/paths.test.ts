import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathAccessError, displayPath, resolveRoots, resolveUnderRoots } from './paths';

describe('resolveUnderRoots', () => {
  let tmp: string;
  let root: string;
  let outside: string;
  beforeAll(() => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-paths-')));
    root = path.join(tmp, 'runs');
    outside = path.join(tmp, 'secret');
    fs.mkdirSync(path.join(root, 'run-1', 'base'), { recursive: true });
    fs.mkdirSync(outside);
    fs.symlinkSync(outside, path.join(root, 'escape'));
    fs.symlinkSync(path.join(root, 'run-1'), path.join(root, 'alias'));
    fs.mkdirSync(path.join(tmp, 'runs-evil'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const roots = () => resolveRoots([root]).roots;

  it('accepts a dir under a root, relative or absolute, and a symlink staying inside', () => {
    expect(resolveUnderRoots(roots(), 'run-1')).toBe(path.join(root, 'run-1'));
    expect(resolveUnderRoots(roots(), path.join(root, 'run-1', 'base'))).toBe(path.join(root, 'run-1', 'base'));
    expect(resolveUnderRoots(roots(), 'alias')).toBe(path.join(root, 'run-1'));
    expect(resolveUnderRoots(roots(), 'run-1/../run-1/base')).toBe(path.join(root, 'run-1', 'base'));
  });

  it.each([
    ['..', 'parent of the root'],
    ['../secret', 'sibling via ..'],
    ['run-1/../../secret', 'traversal through a run dir'],
    ['escape', 'symlink pointing out of the root'],
    ['escape/../..', 'symlink then ..'],
    ['/etc', 'absolute path elsewhere'],
    ['../runs-evil', 'a sibling whose name starts with the root name'],
  ])('refuses %s (%s)', (requested) => {
    expect(() => resolveUnderRoots(roots(), requested)).toThrow(PathAccessError);
    expect(() => resolveUnderRoots(roots(), requested)).toThrow(/outside the playground roots/);
  });

  it('refuses missing paths, empty paths and NUL bytes with a clear message', () => {
    expect(() => resolveUnderRoots(roots(), 'nope')).toThrow(/no such file or directory/);
    expect(() => resolveUnderRoots(roots(), '')).toThrow(/non-empty/);
    expect(() => resolveUnderRoots(roots(), 'run-1\0')).toThrow(/not a valid path/);
    expect(() => resolveUnderRoots({ dirs: [] }, 'run-1')).toThrow(/without any root/);
  });

  it('reports roots that do not exist', () => {
    const r = resolveRoots([root, path.join(tmp, 'missing')]);
    expect(r.roots.dirs).toEqual([root]);
    expect(r.missing).toEqual([path.join(tmp, 'missing')]);
  });

  it('shows paths relative to their root', () => {
    expect(displayPath(roots(), path.join(root, 'run-1', 'base'))).toBe('runs/run-1/base');
  });
});
