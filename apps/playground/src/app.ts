// The playground HTTP server: static page + JSON API. node:http only.
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { pipeline } from 'node:stream';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRUNED_VOCAB_FILE } from '@tagi/t5-model';
import { DEFAULT_TOKENIZER_DIR } from '@tagi/t5-model/node';
import { HYPERNET_CONFIG_FILE, HYPERNET_WEIGHTS_FILE } from '@tagi/hypernet';
import type { InstructionRequest, PlaygroundEngine } from './engine-types';
import { isLoopback as isLoopbackHost } from './cli-args';
import { HttpError, readJsonBody, requireString, sendError, sendJson, toHttpError as toHttpErrorBase } from './http';
import { PathAccessError, type Roots, displayPath, realFileUnderRoots, resolveUnderRoots } from './paths';
import { aboutFile } from './os-errors';
import { scoreAnswers } from './scoring';
import { isBlank } from './text';
import { RunConfigError, readRunPrompt } from './run-models';
import { RunDirError, listRunDirs, readRunDir } from './runs';
import { writeZip } from './zip';

export interface PlaygroundOptions {
  readonly roots: Roots;
  readonly engine: PlaygroundEngine;
  readonly host?: string;
  /** 0 = any free port. */
  readonly port?: number;
  /**
   * Largest accepted request body in bytes. It bounds instructions too: within it, a long instruction
   * is cut by the run's token budget (the policy training uses), with a warning, never refused.
   */
  readonly maxBodyBytes?: number;
  readonly maxInputs?: number;
  readonly maxInputChars?: number;
  /** Directory with index.html, in-page.html, style.css. */
  readonly publicDir?: string;
  /** Directory of the built pages' scripts, app.js and in-page.js (tsup.page.config.ts). */
  readonly pageDir?: string;
  /** Directory of the in-page runner bundle. */
  readonly webDir?: string;
  readonly log?: (line: string) => void;
}

export interface RunningPlayground {
  readonly url: string;
  readonly port: number;
  readonly server: http.Server;
  close(): Promise<void>;
}

const moduleDir = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_PUBLIC_DIR = path.resolve(moduleDir, '..', 'public');
/** The in-page runner bundle (tsup.web.config.ts); the same path from src/ (tests) and dist/ (built). */
export const DEFAULT_WEB_DIR = path.resolve(moduleDir, '..', 'dist', 'web');
/** The pages' scripts built from src/page/ (tsup.page.config.ts); the same path from src/ and dist/. */
export const DEFAULT_PAGE_DIR = path.resolve(moduleDir, '..', 'dist', 'page');
const PAGE_SCRIPTS = ['app.js', 'in-page.js'];
const WEB_BUNDLE = 'tagi-browser.js';

/** The tfjs wasm binaries, served to the page as tfjs-backend-wasm asks for them (`setWasmPaths('/wasm/')`). */
function wasmFiles(): Map<string, string> {
  const dist = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
  const names = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
  return new Map(names.map((n) => [`/wasm/${n}`, path.join(dist, n)]));
}

/** Checkpoint files the page may fetch by name from a dir under the roots (nothing else is served). */
const MODEL_FILE_NAMES = new Set(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', PRUNED_VOCAB_FILE, HYPERNET_CONFIG_FILE, HYPERNET_WEIGHTS_FILE]);

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
};

// wasm needs 'wasm-unsafe-eval' to be compiled; nothing else is loaded from anywhere but this server.
// blob: for scripts and workers: tfjs's threaded wasm starts its threads as workers from blob: URLs that
// import the backend's own code from another blob (@tensorflow/tfjs-backend-wasm's locateFile and
// mainScriptUrlOrBlob); a blob URL can only be made by script already running in this page.
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:; worker-src 'self' blob:; img-src 'self' data:; style-src 'self' 'unsafe-inline'";

/**
 * Cross-origin isolation, on every response: with COOP same-origin and COEP require-corp the page is
 * `crossOriginIsolated`, which gives it SharedArrayBuffer and so tfjs's threaded SIMD wasm build (one
 * worker per core instead of one core). CORP same-origin says the files may be loaded by this origin
 * only, which is what an isolated page requires of every subresource (the wasm binaries, the bundles).
 */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * Streams a file (size known up front). A read error before the headers is a JSON error; after them, or
 * a client that hangs up mid-file (EPIPE, ECONNRESET), just ends the response: pipeline() destroys both
 * streams, so neither an open file nor an unhandled error is left behind.
 */
function sendFile(req: http.IncomingMessage, res: http.ServerResponse, file: string, type: string, cache: string): void {
  const size = aboutFile(file, () => fs.statSync(file)).size;
  const stream = fs.createReadStream(file);
  stream.once('error', (e) => (res.headersSent ? res.destroy() : sendError(res, e)));
  stream.once('open', () => {
    res.writeHead(200, { 'content-type': type, 'content-length': size, 'cache-control': cache, 'x-content-type-options': 'nosniff', 'content-security-policy': CSP });
    if (req.method === 'HEAD') {
      stream.destroy();
      res.end();
      return;
    }
    pipeline(stream, res, () => {});
  });
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof PathAccessError) return new HttpError(err.status, 'PathAccessError', err.message);
  if (err instanceof RunDirError) return new HttpError(422, 'RunDirError', err.message);
  if (err instanceof RunConfigError) return new HttpError(422, 'RunConfigError', err.message);
  return toHttpErrorBase(err);
}

export function startPlayground(opts: PlaygroundOptions): Promise<RunningPlayground> {
  const host = opts.host ?? '127.0.0.1';
  const maxBody = opts.maxBodyBytes ?? 64 * 1024;
  const maxInputs = opts.maxInputs ?? 8;
  const maxInputChars = opts.maxInputChars ?? 2000;
  const publicDir = opts.publicDir ?? DEFAULT_PUBLIC_DIR;
  const log = opts.log ?? (() => {});
  const webDir = opts.webDir ?? DEFAULT_WEB_DIR;
  const pageDir = opts.pageDir ?? DEFAULT_PAGE_DIR;
  // URL path -> file, fixed at start: no request path ever reaches the file system
  const staticFiles = new Map<string, string>();
  for (const name of fs.readdirSync(publicDir)) if (STATIC_TYPES[path.extname(name)]) staticFiles.set(`/${name}`, path.join(publicDir, name));
  for (const name of PAGE_SCRIPTS.flatMap((n) => [n, `${n}.map`])) staticFiles.set(`/${name}`, path.join(pageDir, name));
  for (const name of [WEB_BUNDLE, `${WEB_BUNDLE}.map`]) staticFiles.set(`/web/${name}`, path.join(webDir, name));
  for (const [url, file] of wasmFiles()) staticFiles.set(url, file);
  for (const name of ['tokenizer.json', 'tokenizer_config.json']) staticFiles.set(`/t5-tokenizer/${name}`, path.join(DEFAULT_TOKENIZER_DIR, name));
  const { roots, engine } = opts;

  /** The URL the page fetches a checkpoint file from: the built-in tokenizer, or /api/file under a root. */
  const fileUrl = (file: string): string => {
    if (path.dirname(file) === DEFAULT_TOKENIZER_DIR) return `/t5-tokenizer/${path.basename(file)}`;
    return `/api/file?dir=${encodeURIComponent(path.dirname(file))}&name=${encodeURIComponent(path.basename(file))}`;
  };

  /** The request's inputs: 1..maxInputs strings, each with text and at most maxInputChars. */
  const requireInputs = (body: Record<string, unknown>): string[] => {
    const inputs = body.inputs;
    if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((s) => typeof s === 'string' && !isBlank(s))) {
      throw new HttpError(400, 'BadRequest', 'inputs: expected a non-empty array of non-empty strings (not only whitespace)');
    }
    if (inputs.length > maxInputs) throw new HttpError(413, 'TooLong', `inputs: ${inputs.length} inputs, more than the ${maxInputs} allowed`);
    inputs.forEach((s: string, i) => {
      if (s.length > maxInputChars) throw new HttpError(413, 'TooLong', `inputs.${i}: ${s.length} characters, more than the ${maxInputChars} allowed`);
    });
    return inputs as string[];
  };

  /** Optional expected outputs, one entry per input: null (unknown) or a list of accepted answers. */
  const optionalReferences = (body: Record<string, unknown>, count: number): (string[] | null)[] | undefined => {
    const refs = body.references;
    if (refs === undefined || refs === null) return undefined;
    if (!Array.isArray(refs) || refs.length !== count) throw new HttpError(400, 'BadRequest', `references: expected an array of ${count} entries (one per input), each null or a list of strings`);
    return refs.map((r, i) => {
      if (r === null) return null;
      if (!Array.isArray(r) || r.length === 0 || r.length > 16 || !r.every((x) => typeof x === 'string' && x.length <= maxInputChars)) {
        throw new HttpError(400, 'BadRequest', `references.${i}: expected null or 1 to 16 strings of at most ${maxInputChars} characters`);
      }
      return r as string[];
    });
  };

  /** The instruction text and, while it is a suite task's text unchanged, that task's id. */
  const requireInstruction = (body: Record<string, unknown>): InstructionRequest => {
    const instruction = requireString(body, 'instruction', maxBody);
    if (body.task === undefined || body.task === null) return { instruction };
    return { instruction, task: requireString(body, 'task', 200) };
  };

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
        return sendJson(res, 200, { ...details, display: displayPath(roots, dir), artifacts: details.artifacts.map((a) => ({ ...a, display: displayPath(roots, a.dir) })) });
      }
      case 'GET /api/examples': {
        // the run's prompt setting (Def + k positive examples) when a run dir is given
        const dirParam = url.searchParams.get('dir');
        // a config.json symlinked out of the roots is refused (403), like any other file
        const numPositive = dirParam ? readRunPrompt(underRoots(dirParam, 'dir'), (file) => realFileUnderRoots(roots, file)).numPositive : 0;
        return sendJson(res, 200, { examples: await engine.examples({ numPositive }), numPositive });
      }
      case 'POST /api/open': {
        const body = await readJsonBody(req, maxBody);
        return sendJson(res, 200, await engine.open(underRoots(body.dir, 'dir')));
      }
      case 'POST /api/generate': {
        const body = await readJsonBody(req, maxBody);
        const dir = underRoots(body.dir, 'dir');
        return sendJson(res, 200, await engine.generate(dir, requireInstruction(body)));
      }
      case 'POST /api/run': {
        const body = await readJsonBody(req, maxBody);
        const dir = underRoots(body.dir, 'dir');
        const request = requireInstruction(body);
        const inputs = requireInputs(body);
        const references = optionalReferences(body, inputs.length);
        const adapterId = body.adapterId === undefined ? undefined : requireString(body, 'adapterId', 200);
        const { results, warnings } = await engine.run(dir, request, adapterId, inputs);
        return sendJson(res, 200, { results: references ? results.map((r) => (r.outputs ? { ...r, scores: scoreAnswers(r.outputs, references) } : r)) : results, warnings });
      }
      case 'POST /api/logits': {
        // TAGI's logits along given decoder rows, as little-endian float32 [batch, tgtLen, vocab] (shape in a header):
        // what the in-page runner is compared with
        const body = await readJsonBody(req, maxBody);
        const dir = underRoots(body.dir, 'dir');
        const request = requireInstruction(body);
        const inputs = requireInputs(body);
        const adapterId = requireString(body, 'adapterId', 200);
        const rows = body.decoderIds;
        const maxLen = engine.limits.maxNewTokens + 1;
        if (!Array.isArray(rows) || rows.length !== inputs.length || !rows.every((r) => Array.isArray(r) && r.length > 0 && r.length <= maxLen)) {
          throw new HttpError(400, 'BadRequest', `decoderIds: expected ${inputs.length} rows (one per input) of 1 to ${maxLen} token ids`);
        }
        const logits = await engine.logits(dir, request, adapterId, inputs, rows as number[][]);
        const bytes = Buffer.from(logits.data.buffer, logits.data.byteOffset, logits.data.byteLength);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length, 'x-tagi-shape': logits.shape.join(','), 'cache-control': 'no-store' });
        res.end(bytes);
        return;
      }
      case 'GET /api/in-page': {
        // what the page needs to run this dir's TAGI model itself: file URLs, limits, where the wasm is
        const dir = underRoots(url.searchParams.get('dir') ?? undefined, 'dir');
        const files = await engine.inPageFiles(dir);
        if (!files.available) return sendJson(res, 200, files);
        if (!fs.existsSync(path.join(webDir, WEB_BUNDLE))) {
          return sendJson(res, 200, { available: false, reason: `the in-page runner is not built (${path.join(webDir, WEB_BUNDLE)} is missing): run \`pnpm --filter @tagi/playground build\`` });
        }
        const { base, hypernet } = files;
        return sendJson(res, 200, {
          available: true,
          dir,
          bundle: `/web/${WEB_BUNDLE}`,
          wasmPath: '/wasm/',
          base: { config: fileUrl(base.config), weights: fileUrl(base.weights), tokenizer: fileUrl(base.tokenizer), tokenizerConfig: base.tokenizerConfig && fileUrl(base.tokenizerConfig), vocab: base.vocab && fileUrl(base.vocab) },
          hypernet: { config: fileUrl(hypernet.config), weights: fileUrl(hypernet.weights) },
          prompt: files.prompt,
          limits: files.limits,
        });
      }
      case 'GET /api/file': {
        const dir = underRoots(url.searchParams.get('dir') ?? undefined, 'dir');
        const name = url.searchParams.get('name') ?? '';
        if (!MODEL_FILE_NAMES.has(name)) throw new HttpError(404, 'NotFound', `name: expected one of ${[...MODEL_FILE_NAMES].join(', ')}, got ${JSON.stringify(name)}`);
        const file = path.join(dir, name);
        if (!fs.existsSync(file)) throw new HttpError(404, 'NotFound', `${file}: no such file`);
        return sendFile(req, res, realFileUnderRoots(roots, file), name.endsWith('.json') ? STATIC_TYPES['.json']! : 'application/octet-stream', 'no-store');
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
        // the self-describing export: the files `tagi generate` writes, in one folder of a zip
        const exp = await engine.exportAdapter(id);
        const zip = writeZip(exp.files.map((f) => ({ name: `${exp.folder}/${f.name}`, data: f.data })));
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

  /**
   * The other site a request to the API comes from, or undefined for this page and for clients that say
   * nothing (curl, scripts). Browsers name the page's origin in Origin (every POST, every cross-origin
   * fetch) and, on requests without one (an <img> or a form's GET), say cross-site / same-site in
   * Sec-Fetch-Site. Same origin = the Origin's host:port is the Host this request was sent to (checked
   * above against the loopback names), as Jupyter checks it; a TLS proxy in front may make it https.
   */
  const foreignOrigin = (req: http.IncomingMessage): string | undefined => {
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let u: URL | undefined;
      try {
        u = new URL(origin);
      } catch {
        return origin; // 'null' (a sandboxed frame, a file:// page) or garbage: not this page
      }
      const sameHost = u.host.toLowerCase() === (req.headers.host ?? '').toLowerCase();
      return sameHost && (u.protocol === 'http:' || u.protocol === 'https:') ? undefined : origin;
    }
    const site = req.headers['sec-fetch-site'];
    return site === 'cross-site' || site === 'same-site' ? `a ${site} page` : undefined;
  };

  const server = http.createServer((req, res) => {
    for (const [name, value] of Object.entries(ISOLATION_HEADERS)) res.setHeader(name, value);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (allowedHosts && !allowedHosts.has((req.headers.host ?? '').toLowerCase())) {
      sendError(res, new HttpError(421, 'MisdirectedRequest', `Host ${JSON.stringify(req.headers.host ?? '')} is not this playground (open it as http://127.0.0.1 or localhost)`));
      return;
    }
    // the API (every POST changes state or spends compute; GETs read runs and files) answers this page only
    const foreign = url.pathname.startsWith('/api/') ? foreignOrigin(req) : undefined;
    if (foreign !== undefined) {
      log(`${req.method} ${url.pathname} -> 403: from ${foreign}`);
      sendError(res, new HttpError(403, 'ForeignOrigin', `${req.method} ${url.pathname} from ${foreign}: the playground's API answers its own page only (open http://${req.headers.host ?? 'this server'}/)`));
      req.resume();
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
      // static files: looked up by exact URL path in a fixed table, so no request path reaches the file system
      const file = staticFiles.get(url.pathname === '/' ? '/index.html' : url.pathname);
      if (!file) throw new HttpError(404, 'NotFound', `no file ${url.pathname}`);
      if (url.pathname.startsWith('/web/') && !fs.existsSync(file)) {
        throw new HttpError(404, 'NotFound', `${file} is missing: the in-page runner is not built (run \`pnpm --filter @tagi/playground build\`)`);
      }
      if (path.dirname(file) === pageDir && !fs.existsSync(file)) {
        throw new HttpError(404, 'NotFound', `${file} is missing: the page is not built (run \`pnpm --filter @tagi/playground build\`)`);
      }
      sendFile(req, res, file, STATIC_TYPES[path.extname(file)] ?? 'application/octet-stream', 'no-cache');
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
