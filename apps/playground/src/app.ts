// The playground HTTP server: static page + JSON API. node:http only.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlaygroundEngine } from './engine-types';
import { isLoopback as isLoopbackHost } from './cli-args';
import { HttpError, readJsonBody, requireString, sendError, sendJson, toHttpError as toHttpErrorBase } from './http';
import { PathAccessError, type Roots, displayPath, realFileUnderRoots, resolveUnderRoots } from './paths';
import { aboutFile } from './os-errors';
import { isBlank } from './text';
import { RunDirError, listRunDirs, readRunDir } from './runs';
import { writeZip } from './zip';

export interface PlaygroundOptions {
  readonly roots: Roots;
  readonly engine: PlaygroundEngine;
  readonly host?: string;
  /** 0 = any free port. */
  readonly port?: number;
  /** Largest accepted request body in bytes. */
  readonly maxBodyBytes?: number;
  /** Most characters accepted in an instruction before it is even tokenized (tokens are bounded by the engine). */
  readonly maxInstructionChars?: number;
  readonly maxInputs?: number;
  readonly maxInputChars?: number;
  /** Directory with index.html, app.js, style.css. */
  readonly publicDir?: string;
  readonly log?: (line: string) => void;
}

export interface RunningPlayground {
  readonly url: string;
  readonly port: number;
  readonly server: http.Server;
  close(): Promise<void>;
}

export const DEFAULT_PUBLIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'public');

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

function toHttpError(err: unknown): HttpError {
  if (err instanceof PathAccessError) return new HttpError(err.status, 'PathAccessError', err.message);
  if (err instanceof RunDirError) return new HttpError(422, 'RunDirError', err.message);
  return toHttpErrorBase(err);
}

/** prompt.numPos of a run's config.json (what `tagi demo` trained with), when present and readable. */
function runNumPositive(roots: Roots, dir: string): number | undefined {
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(file)) return undefined;
  // a config.json symlinked out of the roots is refused (403), like any other file
  const real = realFileUnderRoots(roots, file);
  const text = aboutFile(file, () => fs.readFileSync(real, 'utf8'));
  try {
    const n = (JSON.parse(text) as { prompt?: { numPos?: unknown } }).prompt?.numPos;
    return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 8 ? n : undefined;
  } catch {
    return undefined; // not the trainer's config: the examples use the default prompt
  }
}

export function startPlayground(opts: PlaygroundOptions): Promise<RunningPlayground> {
  const host = opts.host ?? '127.0.0.1';
  const maxBody = opts.maxBodyBytes ?? 64 * 1024;
  const maxInstructionChars = opts.maxInstructionChars ?? 8000;
  const maxInputs = opts.maxInputs ?? 8;
  const maxInputChars = opts.maxInputChars ?? 2000;
  const publicDir = opts.publicDir ?? DEFAULT_PUBLIC_DIR;
  const log = opts.log ?? (() => {});
  const staticFiles = new Map<string, string>();
  for (const name of fs.readdirSync(publicDir)) {
    const type = STATIC_TYPES[path.extname(name)];
    if (type) staticFiles.set(name, type);
  }
  const { roots, engine } = opts;

  const underRoots = (v: unknown, key: string): string => {
    if (typeof v !== 'string') throw new HttpError(400, 'BadRequest', `${key}: expected a directory path`);
    return resolveUnderRoots(roots, v);
  };

  async function api(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /api/health':
        return sendJson(res, 200, { ok: true });
      case 'GET /api/runs': {
        const runs = listRunDirs(roots.dirs).map((r) => ({ ...r, display: displayPath(roots, r.dir) }));
        return sendJson(res, 200, { roots: roots.dirs.map((d) => ({ dir: d, display: path.basename(d) })), runs, where: 'node-server' });
      }
      case 'GET /api/run': {
        const dir = underRoots(url.searchParams.get('dir') ?? undefined, 'dir');
        const details = readRunDir(dir, (file) => realFileUnderRoots(roots, file));
        return sendJson(res, 200, { ...details, display: displayPath(roots, dir), checkpoints: details.checkpoints.map((c) => ({ ...c, display: displayPath(roots, c.dir) })) });
      }
      case 'GET /api/examples': {
        // the run's prompt setting (Def + k positive examples) when a run dir is given
        const dirParam = url.searchParams.get('dir');
        const numPositive = dirParam ? runNumPositive(roots, underRoots(dirParam, 'dir')) : undefined;
        return sendJson(res, 200, { examples: await engine.examples(numPositive === undefined ? {} : { numPositive }), numPositive: numPositive ?? 0 });
      }
      case 'POST /api/open': {
        const body = await readJsonBody(req, maxBody);
        return sendJson(res, 200, await engine.open(underRoots(body.dir, 'dir')));
      }
      case 'POST /api/generate': {
        const body = await readJsonBody(req, maxBody);
        const dir = underRoots(body.dir, 'dir');
        const instruction = requireString(body, 'instruction', maxInstructionChars);
        return sendJson(res, 200, await engine.generate(dir, instruction));
      }
      case 'POST /api/run': {
        const body = await readJsonBody(req, maxBody);
        const dir = underRoots(body.dir, 'dir');
        const instruction = requireString(body, 'instruction', maxInstructionChars);
        const inputs = body.inputs;
        if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((s) => typeof s === 'string' && !isBlank(s))) {
          throw new HttpError(400, 'BadRequest', 'inputs: expected a non-empty array of non-empty strings (not only whitespace)');
        }
        if (inputs.length > maxInputs) throw new HttpError(413, 'TooLong', `inputs: ${inputs.length} inputs, more than the ${maxInputs} allowed`);
        inputs.forEach((s: string, i) => {
          if (s.length > maxInputChars) throw new HttpError(413, 'TooLong', `inputs.${i}: ${s.length} characters, more than the ${maxInputChars} allowed`);
        });
        const adapterId = body.adapterId === undefined ? undefined : requireString(body, 'adapterId', 200);
        return sendJson(res, 200, { results: await engine.run(dir, instruction, adapterId, inputs as string[]) });
      }
      case 'POST /api/diff': {
        const body = await readJsonBody(req, maxBody);
        const a = requireString(body, 'a', 200);
        if (body.peftDir !== undefined) return sendJson(res, 200, { modules: await engine.diffWithPeft(a, underRoots(body.peftDir, 'peftDir')) });
        return sendJson(res, 200, { modules: await engine.diff(a, requireString(body, 'b', 200)) });
      }
      case 'GET /api/export': {
        const id = url.searchParams.get('adapter');
        if (!id) throw new HttpError(400, 'BadRequest', 'adapter: expected an adapter id');
        const files = await engine.exportPeft(id);
        const zip = writeZip(files);
        const name = `tagi-adapter-${id.replace(/[^\w-]/g, '')}.zip`;
        res.writeHead(200, {
          'content-type': 'application/zip',
          'content-length': zip.length,
          'content-disposition': `attachment; filename="${name}"`,
          'cache-control': 'no-store',
        });
        res.end(zip);
        return;
      }
      default:
        throw new HttpError(404, 'NotFound', `no API route ${route}`);
    }
  }

  // Names this server answers to when it is bound to loopback. A page on another site that rebinds its
  // DNS name to 127.0.0.1 still sends its own name in Host, so it is refused (DNS rebinding).
  let allowedHosts: Set<string> | undefined;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (allowedHosts && !allowedHosts.has((req.headers.host ?? '').toLowerCase())) {
      sendError(res, new HttpError(421, 'MisdirectedRequest', `Host ${JSON.stringify(req.headers.host ?? '')} is not this playground (open it as http://127.0.0.1 or localhost)`));
      return;
    }
    // JSON only: a cross-site form or text/plain POST cannot start a model run (browsers preflight JSON)
    if (req.method === 'POST' && !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      sendError(res, new HttpError(415, 'UnsupportedMediaType', `POST ${url.pathname}: expected content-type application/json`));
      req.resume();
      return;
    }
    const done = (err: unknown): void => {
      const e = toHttpError(err);
      if (e.status === 413 && !res.headersSent) res.setHeader('connection', 'close');
      log(`${req.method} ${url.pathname} -> ${e.status}: ${e.message}`);
      // a bug: the stack goes to the server log (never to the page)
      if (e.type === 'InternalError' && err instanceof Error && err.stack) log(err.stack);
      sendError(res, e);
      // a body we refused to read: stop the client sending the rest
      if (e.status === 413) res.on('finish', () => req.destroy());
    };
    try {
      if (url.pathname.startsWith('/api/')) {
        api(req, res, url).catch(done);
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'MethodNotAllowed', `${req.method} ${url.pathname}`);
      // static files: looked up by exact name in a fixed list, so no path reaches the file system
      const name = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
      const type = staticFiles.get(name);
      if (!type) throw new HttpError(404, 'NotFound', `no file ${url.pathname}`);
      const data = fs.readFileSync(path.join(publicDir, name));
      res.writeHead(200, {
        'content-type': type,
        'content-length': data.length,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
      });
      res.end(req.method === 'HEAD' ? undefined : data);
    } catch (err) {
      done(err);
    }
  });
  server.requestTimeout = 10 * 60_000;
  server.headersTimeout = 30_000;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      if (isLoopbackHost(host)) allowedHosts = new Set(['127.0.0.1', 'localhost', '[::1]', ...(host.includes(':') ? [`[${host}]`] : [host])].map((h) => `${h}:${port}`));
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${shownHost}:${port}/`,
        port,
        server,
        close: () =>
          new Promise<void>((res) => {
            server.closeAllConnections();
            server.close(() => res());
          }),
      });
    });
  });
}
