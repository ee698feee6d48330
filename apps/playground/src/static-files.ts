// The files the playground serves besides its API: the HTML pages and style (public/), the pages' built
// scripts (dist/page/), the in-page runner bundle (dist/web/), tfjs's wasm binaries and the built-in T5
// tokenizer. URL path → file is a table fixed at start, so no request path ever reaches the file system.
// Also the headers every response carries: cross-origin isolation and, on files, the content policy.
import fs from 'node:fs';
import type http from 'node:http';
import { createRequire } from 'node:module';
import { pipeline } from 'node:stream';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TOKENIZER_DIR } from '@tagi/t5-model/node';
import { HttpError, sendError } from './http';
import { aboutFile } from './os-errors';

const moduleDir = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_PUBLIC_DIR = path.resolve(moduleDir, '..', 'public');
/** The in-page runner bundle (tsup.web.config.ts); the same path from src/ (tests) and dist/ (built). */
export const DEFAULT_WEB_DIR = path.resolve(moduleDir, '..', 'dist', 'web');
/** The pages' scripts built from src/page/ (tsup.page.config.ts); the same path from src/ and dist/. */
export const DEFAULT_PAGE_DIR = path.resolve(moduleDir, '..', 'dist', 'page');
export const WEB_BUNDLE = 'tagi-browser.js';
const PAGE_SCRIPTS = ['app.js', 'in-page.js'];

export const STATIC_TYPES: Record<string, string> = {
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

/** Where the served files come from. */
export interface StaticDirs {
  /** index.html, in-page.html, style.css. */
  readonly publicDir: string;
  /** app.js and in-page.js, built from src/page/. */
  readonly pageDir: string;
  /** The in-page runner bundle. */
  readonly webDir: string;
}

/** The tfjs wasm binaries, served to the page as tfjs-backend-wasm asks for them (`setWasmPaths('/wasm/')`). */
function wasmFiles(): Map<string, string> {
  const dist = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
  const names = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
  return new Map(names.map((n) => [`/wasm/${n}`, path.join(dist, n)]));
}

/** URL path → file, fixed at start. */
export function staticFileTable(dirs: StaticDirs): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of fs.readdirSync(dirs.publicDir)) if (STATIC_TYPES[path.extname(name)]) files.set(`/${name}`, path.join(dirs.publicDir, name));
  for (const name of PAGE_SCRIPTS.flatMap((n) => [n, `${n}.map`])) files.set(`/${name}`, path.join(dirs.pageDir, name));
  for (const name of [WEB_BUNDLE, `${WEB_BUNDLE}.map`]) files.set(`/web/${name}`, path.join(dirs.webDir, name));
  for (const [url, file] of wasmFiles()) files.set(url, file);
  for (const name of ['tokenizer.json', 'tokenizer_config.json']) files.set(`/t5-tokenizer/${name}`, path.join(DEFAULT_TOKENIZER_DIR, name));
  return files;
}

/**
 * Streams a file (size known up front). A read error before the headers is a JSON error; after them, or
 * a client that hangs up mid-file (EPIPE, ECONNRESET), just ends the response: pipeline() destroys both
 * streams, so neither an open file nor an unhandled error is left behind.
 */
export function sendFile(req: http.IncomingMessage, res: http.ServerResponse, file: string, type: string, cache: string): void {
  const size = aboutFile(file, () => fs.statSync(file)).size;
  const stream = fs.createReadStream(file);
  stream.once('error', (e) => (res.headersSent ? res.destroy() : sendError(res, e)));
  stream.once('open', () => {
    res.writeHead(200, {
      'content-type': type,
      'content-length': size,
      'cache-control': cache,
      'x-content-type-options': 'nosniff',
      'content-security-policy': CSP,
    });
    if (req.method === 'HEAD') {
      stream.destroy();
      res.end();
      return;
    }
    pipeline(stream, res, () => {});
  });
}

/** A GET or HEAD of a static file, looked up by exact URL path; a file not built yet says how to build it. */
export function serveStatic(req: http.IncomingMessage, res: http.ServerResponse, url: URL, files: ReadonlyMap<string, string>, dirs: StaticDirs): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'MethodNotAllowed', `${req.method} ${url.pathname}`);
  const file = files.get(url.pathname === '/' ? '/index.html' : url.pathname);
  if (!file) throw new HttpError(404, 'NotFound', `no file ${url.pathname}`);
  if (url.pathname.startsWith('/web/') && !fs.existsSync(file)) {
    throw new HttpError(404, 'NotFound', `${file} is missing: the in-page runner is not built (run \`pnpm --filter @tagi/playground build\`)`);
  }
  if (path.dirname(file) === dirs.pageDir && !fs.existsSync(file)) {
    throw new HttpError(404, 'NotFound', `${file} is missing: the page is not built (run \`pnpm --filter @tagi/playground build\`)`);
  }
  sendFile(req, res, file, STATIC_TYPES[path.extname(file)] ?? 'application/octet-stream', 'no-cache');
}
