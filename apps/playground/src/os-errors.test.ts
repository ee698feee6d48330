import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHttpError } from './http';
import { aboutFile, describeOsError } from './os-errors';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('describeOsError on errors the OS really raises', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-oserr-')));
    fs.writeFileSync(path.join(tmp, 'file'), 'x');
    fs.mkdirSync(path.join(tmp, 'dir'));
    fs.symlinkSync(path.join(tmp, 'loop-b'), path.join(tmp, 'loop-a'));
    fs.symlinkSync(path.join(tmp, 'loop-a'), path.join(tmp, 'loop-b'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it.each([
    ['ENOENT', 404, () => fs.readFileSync(path.join(tmp, 'missing')), 'missing', /no such file or directory/],
    ['ENOTDIR', 404, () => fs.readFileSync(path.join(tmp, 'file', 'x')), 'file/x', /a part of this path is a file/],
    ['EISDIR', 422, () => aboutFile(path.join(tmp, 'dir'), () => fs.readFileSync(path.join(tmp, 'dir'))), 'dir', /is a directory where a file was expected/],
    ['EEXIST', 409, () => fs.mkdirSync(path.join(tmp, 'dir')), 'dir', /already exists \(remove it or choose another name\)/],
    ['ELOOP', 403, () => fs.readFileSync(path.join(tmp, 'loop-a')), 'loop-a', /symlink loop/],
  ] as const)('%s -> HTTP %i, naming the path and what to do', (code, status, fn, rel, advice) => {
    const d = describeOsError(thrown(fn));
    expect(d?.code).toBe(code);
    expect(d?.status).toBe(status);
    expect(d?.message.startsWith(path.join(tmp, rel))).toBe(true);
    expect(d?.message).toMatch(advice);
    // the same error through the HTTP error path keeps its code as the type
    const h = toHttpError(thrown(fn));
    expect([h.status, h.type, h.message]).toEqual([status, code, d?.message]);
  });

  it('EADDRINUSE names the port and address and suggests --port', async () => {
    const a = net.createServer();
    await new Promise<void>((r) => a.listen(0, '127.0.0.1', r));
    const port = (a.address() as net.AddressInfo).port;
    const b = net.createServer();
    const err = await new Promise<unknown>((r) => {
      b.once('error', r);
      b.listen(port, '127.0.0.1');
    });
    await new Promise<void>((r) => a.close(() => r()));
    const d = describeOsError(err);
    expect(d?.code).toBe('EADDRINUSE');
    expect(d?.message).toBe(
      `port ${port} on 127.0.0.1 is already in use (another playground or server?): stop that process, or pass --port with a free port (--port 0 picks one)`,
    );
  });

  // ENOSPC and EPIPE cannot be provoked on demand here; these errors have the shape Node gives them
  it.each([
    ['ENOSPC', 'write', 507, /no space left on the device \(free some space and retry\)/],
    ['EACCES', 'open', 403, /permission denied \(make it readable by the user running the playground/],
    ['EPIPE', 'write', 499, /the reader went away/],
  ])('%s from %s -> HTTP %i with advice', (code, syscall, status, advice) => {
    const e = Object.assign(new Error(`${code}: ${syscall} '/data/x'`), { code, syscall, path: '/data/x', errno: -1 });
    const d = describeOsError(e);
    expect(d?.status).toBe(status);
    expect(d?.message.startsWith('/data/x: ')).toBe(true);
    expect(d?.message).toMatch(advice);
  });

  it('is undefined for programming errors, so they are reported as internal errors', () => {
    expect(describeOsError(new TypeError('x is not a function'))).toBeUndefined();
    expect(describeOsError(Object.assign(new Error('bad arg'), { code: 'ERR_INVALID_ARG_TYPE' }))).toBeUndefined();
    expect(describeOsError('ENOENT')).toBeUndefined();
    const h = toHttpError(new TypeError('x is not a function'));
    expect(h.status).toBe(500);
    expect(h.type).toBe('InternalError');
    expect(h.message).toMatch(/^internal error \(a bug in the playground; its log has the details\): TypeError: x is not a function$/);
  });

  it('aboutFile keeps a path the error already has', () => {
    const e = thrown(() => aboutFile('/elsewhere', () => fs.readFileSync(path.join(tmp, 'missing')))) as NodeJS.ErrnoException;
    expect(e.path).toBe(path.join(tmp, 'missing'));
  });
});
