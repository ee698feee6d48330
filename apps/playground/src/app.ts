// The playground HTTP server: static page + JSON API. node:http only. This file is the server's shape:
// options, the checks every request passes (Host, Origin, content type), dispatch to the API
// (api-routes.ts) or the static files (static-files.ts), error answers, and listening.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PlaygroundEngine } from './engine-types';
import { type ApiContext, handleApi, toHttpError } from './api-routes';
import { isLoopback as isLoopbackHost } from './cli-args';
import { HttpError, sendError } from './http';
import type { Roots } from './paths';
import { DEFAULT_PAGE_DIR, DEFAULT_PUBLIC_DIR, DEFAULT_WEB_DIR, ISOLATION_HEADERS, type StaticDirs, serveStatic, staticFileTable } from './static-files';

export { DEFAULT_PAGE_DIR, DEFAULT_PUBLIC_DIR, DEFAULT_WEB_DIR, ISOLATION_HEADERS } from './static-files';

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

/** Everything a request is answered with, fixed at start. */
interface ServerContext {
  readonly api: ApiContext;
  readonly dirs: StaticDirs;
  /** URL path → file (static-files.ts): no request path ever reaches the file system. */
  readonly files: ReadonlyMap<string, string>;
  readonly log: (line: string) => void;
  /**
   * Names this server answers to when it is bound to loopback (set once it listens). A page on another
   * site that rebinds its DNS name to 127.0.0.1 still sends its own name in Host, so it is refused (DNS
   * rebinding).
   */
  allowedHosts: Set<string> | undefined;
}

function serverContext(opts: PlaygroundOptions): ServerContext {
  const webDir = opts.webDir ?? DEFAULT_WEB_DIR;
  const dirs: StaticDirs = { publicDir: opts.publicDir ?? DEFAULT_PUBLIC_DIR, pageDir: opts.pageDir ?? DEFAULT_PAGE_DIR, webDir };
  return {
    api: {
      roots: opts.roots,
      engine: opts.engine,
      maxBody: opts.maxBodyBytes ?? 64 * 1024,
      maxInputs: opts.maxInputs ?? 8,
      maxInputChars: opts.maxInputChars ?? 2000,
      webDir,
    },
    dirs,
    files: staticFileTable(dirs),
    log: opts.log ?? (() => {}),
    allowedHosts: undefined,
  };
}

/**
 * The other site a request to the API comes from, or undefined for this page and for clients that say
 * nothing (curl, scripts). Browsers name the page's origin in Origin (every POST, every cross-origin
 * fetch) and, on requests without one (an <img> or a form's GET), say cross-site / same-site in
 * Sec-Fetch-Site. Same origin = the Origin's host:port is the Host this request was sent to (checked
 * before against the loopback names), as Jupyter checks it; a TLS proxy in front may make it https.
 */
function foreignOrigin(req: http.IncomingMessage): string | undefined {
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
}

/**
 * The checks before any work: the Host is this server's, the API answers its own page only (every POST
 * changes state or spends compute; GETs read runs and files), and a POST is JSON (a cross-site form or
 * text/plain POST cannot start a model run: browsers preflight JSON). Answers the refusal; false then.
 */
function admit(ctx: ServerContext, req: http.IncomingMessage, res: http.ServerResponse, url: URL): boolean {
  if (ctx.allowedHosts && !ctx.allowedHosts.has((req.headers.host ?? '').toLowerCase())) {
    sendError(
      res,
      new HttpError(
        421,
        'MisdirectedRequest',
        `Host ${JSON.stringify(req.headers.host ?? '')} is not this playground (open it as http://127.0.0.1 or localhost)`,
      ),
    );
    return false;
  }
  const foreign = url.pathname.startsWith('/api/') ? foreignOrigin(req) : undefined;
  if (foreign !== undefined) {
    ctx.log(`${req.method} ${url.pathname} -> 403: from ${foreign}`);
    sendError(
      res,
      new HttpError(
        403,
        'ForeignOrigin',
        `${req.method} ${url.pathname} from ${foreign}: the playground's API answers its own page only (open http://${req.headers.host ?? 'this server'}/)`,
      ),
    );
    req.resume();
    return false;
  }
  if (req.method === 'POST' && !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    sendError(res, new HttpError(415, 'UnsupportedMediaType', `POST ${url.pathname}: expected content-type application/json`));
    req.resume();
    return false;
  }
  return true;
}

/** Answers a failed request: the error as JSON, logged (a bug's stack to the log only, never to the page). */
function answerError(ctx: ServerContext, req: http.IncomingMessage, res: http.ServerResponse, url: URL, err: unknown): void {
  const e = toHttpError(err);
  if (e.status === 413 && !res.headersSent) res.setHeader('connection', 'close');
  ctx.log(`${req.method} ${url.pathname} -> ${e.status}: ${e.message}`);
  if (e.type === 'InternalError' && err instanceof Error && err.stack) ctx.log(err.stack);
  sendError(res, e);
  // a body we refused to read: stop the client sending the rest
  if (e.status === 413) res.on('finish', () => req.destroy());
}

function handleRequest(ctx: ServerContext, req: http.IncomingMessage, res: http.ServerResponse): void {
  for (const [name, value] of Object.entries(ISOLATION_HEADERS)) res.setHeader(name, value);
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (!admit(ctx, req, res, url)) return;
  const fail = (err: unknown): void => answerError(ctx, req, res, url, err);
  try {
    if (url.pathname.startsWith('/api/')) handleApi(ctx.api, req, res, url).catch(fail);
    else serveStatic(req, res, url, ctx.files, ctx.dirs);
  } catch (err) {
    fail(err);
  }
}

/** Listens; once bound to loopback, accepts only the loopback names with the bound port as Host. */
function listen(ctx: ServerContext, server: http.Server, host: string, port: number): Promise<RunningPlayground> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const bound = (server.address() as AddressInfo).port;
      if (isLoopbackHost(host))
        ctx.allowedHosts = new Set(['127.0.0.1', 'localhost', '[::1]', ...(host.includes(':') ? [`[${host}]`] : [host])].map((h) => `${h}:${bound}`));
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${shownHost}:${bound}/`,
        port: bound,
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

export function startPlayground(opts: PlaygroundOptions): Promise<RunningPlayground> {
  const ctx = serverContext(opts);
  const server = http.createServer((req, res) => handleRequest(ctx, req, res));
  server.requestTimeout = 10 * 60_000;
  server.headersTimeout = 30_000;
  return listen(ctx, server, opts.host ?? '127.0.0.1', opts.port ?? 0);
}
