// The playground's JSON API: one handler per route, the checks of each request body at this edge, and
// the mapping of the playground's own errors to HTTP statuses. The routes call the engine (the models, in
// this Node server) and read run dirs under the roots; nothing here knows about sockets or static files.
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { PRUNED_VOCAB_FILE } from '@tagi/t5-model';
import { DEFAULT_TOKENIZER_DIR } from '@tagi/t5-model/node';
import { HYPERNET_CONFIG_FILE, HYPERNET_WEIGHTS_FILE } from '@tagi/hypernet';
import type { InstructionRequest, PlaygroundEngine } from './engine-types';
import { HttpError, readJsonBody, requireString, sendJson, toHttpError as toHttpErrorBase } from './http';
import { PathAccessError, type Roots, displayPath, realFileUnderRoots, resolveUnderRoots } from './paths';
import { RunConfigError, readRunPrompt } from './run-models';
import { RunDirError, listRunDirs, readRunDir } from './runs';
import { scoreAnswers } from './scoring';
import { STATIC_TYPES, WEB_BUNDLE, sendFile } from './static-files';
import { isBlank } from './text';
import { writeZip } from './zip';

/** What every route needs: the roots, the engine, the request limits, where the runner bundle is. */
export interface ApiContext {
  readonly roots: Roots;
  readonly engine: PlaygroundEngine;
  /** Largest accepted request body in bytes (it bounds instructions too). */
  readonly maxBody: number;
  readonly maxInputs: number;
  readonly maxInputChars: number;
  readonly webDir: string;
}

type Route = (ctx: ApiContext, req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<void> | void;

/** Checkpoint files the page may fetch by name from a dir under the roots (nothing else is served). */
const MODEL_FILE_NAMES = new Set([
  'config.json',
  'model.safetensors',
  'tokenizer.json',
  'tokenizer_config.json',
  PRUNED_VOCAB_FILE,
  HYPERNET_CONFIG_FILE,
  HYPERNET_WEIGHTS_FILE,
]);

/** The playground's errors as HTTP errors; anything else as http.ts maps it. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof PathAccessError) return new HttpError(err.status, 'PathAccessError', err.message);
  if (err instanceof RunDirError) return new HttpError(422, 'RunDirError', err.message);
  if (err instanceof RunConfigError) return new HttpError(422, 'RunConfigError', err.message);
  return toHttpErrorBase(err);
}

// ---------------------------------------------------------------- request checks (the API's edge)

/** The request's inputs: 1..maxInputs strings, each with text and at most maxInputChars. */
function requireInputs(ctx: ApiContext, body: Record<string, unknown>): string[] {
  const inputs = body.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((s) => typeof s === 'string' && !isBlank(s))) {
    throw new HttpError(400, 'BadRequest', 'inputs: expected a non-empty array of non-empty strings (not only whitespace)');
  }
  if (inputs.length > ctx.maxInputs) throw new HttpError(413, 'TooLong', `inputs: ${inputs.length} inputs, more than the ${ctx.maxInputs} allowed`);
  inputs.forEach((s: string, i) => {
    if (s.length > ctx.maxInputChars) throw new HttpError(413, 'TooLong', `inputs.${i}: ${s.length} characters, more than the ${ctx.maxInputChars} allowed`);
  });
  return inputs as string[];
}

/** Optional expected outputs, one entry per input: null (unknown) or a list of accepted answers. */
function optionalReferences(ctx: ApiContext, body: Record<string, unknown>, count: number): (string[] | null)[] | undefined {
  const refs = body.references;
  if (refs === undefined || refs === null) return undefined;
  if (!Array.isArray(refs) || refs.length !== count)
    throw new HttpError(400, 'BadRequest', `references: expected an array of ${count} entries (one per input), each null or a list of strings`);
  return refs.map((r, i) => {
    if (r === null) return null;
    if (!Array.isArray(r) || r.length === 0 || r.length > 16 || !r.every((x) => typeof x === 'string' && x.length <= ctx.maxInputChars)) {
      throw new HttpError(400, 'BadRequest', `references.${i}: expected null or 1 to 16 strings of at most ${ctx.maxInputChars} characters`);
    }
    return r as string[];
  });
}

/** The instruction text and, while it is a suite task's text unchanged, that task's id. */
function requireInstruction(ctx: ApiContext, body: Record<string, unknown>): InstructionRequest {
  const instruction = requireString(body, 'instruction', ctx.maxBody);
  if (body.task === undefined || body.task === null) return { instruction };
  return { instruction, task: requireString(body, 'task', 200) };
}

/** A directory under the roots (PathAccessError otherwise). */
function underRoots(ctx: ApiContext, v: unknown, key: string): string {
  if (typeof v !== 'string') throw new HttpError(400, 'BadRequest', `${key}: expected a directory path`);
  return resolveUnderRoots(ctx.roots, v);
}

const dirParam = (ctx: ApiContext, url: URL): string => underRoots(ctx, url.searchParams.get('dir') ?? undefined, 'dir');

/** The URL the page fetches a checkpoint file from: the built-in tokenizer, or /api/file under a root. */
function fileUrl(file: string): string {
  if (path.dirname(file) === DEFAULT_TOKENIZER_DIR) return `/t5-tokenizer/${path.basename(file)}`;
  return `/api/file?dir=${encodeURIComponent(path.dirname(file))}&name=${encodeURIComponent(path.basename(file))}`;
}

// ---------------------------------------------------------------- routes

const health: Route = (_ctx, _req, res) => sendJson(res, 200, { ok: true });

const listRuns: Route = ({ roots }, _req, res) => {
  const runs = listRunDirs(roots.dirs).map((r) => ({ ...r, display: displayPath(roots, r.dir) }));
  sendJson(res, 200, { roots: roots.dirs.map((d) => ({ dir: d, display: path.basename(d) })), runs, where: 'node-server' });
};

const runDetails: Route = (ctx, _req, res, url) => {
  const dir = dirParam(ctx, url);
  const details = readRunDir(dir, (file) => realFileUnderRoots(ctx.roots, file));
  sendJson(res, 200, {
    ...details,
    display: displayPath(ctx.roots, dir),
    artifacts: details.artifacts.map((a) => ({ ...a, display: displayPath(ctx.roots, a.dir) })),
  });
};

const examples: Route = async (ctx, _req, res, url) => {
  // the run's prompt setting (Def + k positive examples) when a run dir is given
  const dir = url.searchParams.get('dir');
  // a config.json symlinked out of the roots is refused (403), like any other file
  const numPositive = dir ? readRunPrompt(underRoots(ctx, dir, 'dir'), (file) => realFileUnderRoots(ctx.roots, file)).numPositive : 0;
  sendJson(res, 200, { examples: await ctx.engine.examples({ numPositive }), numPositive });
};

const open: Route = async (ctx, req, res) => {
  const body = await readJsonBody(req, ctx.maxBody);
  sendJson(res, 200, await ctx.engine.open(underRoots(ctx, body.dir, 'dir')));
};

const generate: Route = async (ctx, req, res) => {
  const body = await readJsonBody(req, ctx.maxBody);
  const dir = underRoots(ctx, body.dir, 'dir');
  sendJson(res, 200, await ctx.engine.generate(dir, requireInstruction(ctx, body)));
};

const run: Route = async (ctx, req, res) => {
  const body = await readJsonBody(req, ctx.maxBody);
  const dir = underRoots(ctx, body.dir, 'dir');
  const request = requireInstruction(ctx, body);
  const inputs = requireInputs(ctx, body);
  const references = optionalReferences(ctx, body, inputs.length);
  const adapterId = body.adapterId === undefined ? undefined : requireString(body, 'adapterId', 200);
  const { results, warnings } = await ctx.engine.run(dir, request, adapterId, inputs);
  sendJson(res, 200, { results: references ? results.map((r) => (r.outputs ? { ...r, scores: scoreAnswers(r.outputs, references) } : r)) : results, warnings });
};

/** TAGI's logits along given decoder rows, as little-endian float32 [batch, tgtLen, vocab] (shape in a header): what the in-page runner is compared with. */
const logits: Route = async (ctx, req, res) => {
  const body = await readJsonBody(req, ctx.maxBody);
  const dir = underRoots(ctx, body.dir, 'dir');
  const request = requireInstruction(ctx, body);
  const inputs = requireInputs(ctx, body);
  const adapterId = requireString(body, 'adapterId', 200);
  const rows = body.decoderIds;
  const maxLen = ctx.engine.limits.maxNewTokens + 1;
  if (!Array.isArray(rows) || rows.length !== inputs.length || !rows.every((r) => Array.isArray(r) && r.length > 0 && r.length <= maxLen)) {
    throw new HttpError(400, 'BadRequest', `decoderIds: expected ${inputs.length} rows (one per input) of 1 to ${maxLen} token ids`);
  }
  const out = await ctx.engine.logits(dir, request, adapterId, inputs, rows as number[][]);
  const bytes = Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength);
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': bytes.length,
    'x-tagi-shape': out.shape.join(','),
    'cache-control': 'no-store',
  });
  res.end(bytes);
};

/** What the page needs to run this dir's TAGI model itself: file URLs, limits, where the wasm is. */
const inPage: Route = async (ctx, _req, res, url) => {
  const dir = dirParam(ctx, url);
  const files = await ctx.engine.inPageFiles(dir);
  if (!files.available) return sendJson(res, 200, files);
  if (!fs.existsSync(path.join(ctx.webDir, WEB_BUNDLE))) {
    return sendJson(res, 200, {
      available: false,
      reason: `the in-page runner is not built (${path.join(ctx.webDir, WEB_BUNDLE)} is missing): run \`pnpm --filter @tagi/playground build\``,
    });
  }
  const { base, hypernet } = files;
  sendJson(res, 200, {
    available: true,
    dir,
    bundle: `/web/${WEB_BUNDLE}`,
    wasmPath: '/wasm/',
    base: {
      config: fileUrl(base.config),
      weights: fileUrl(base.weights),
      tokenizer: fileUrl(base.tokenizer),
      tokenizerConfig: base.tokenizerConfig && fileUrl(base.tokenizerConfig),
      vocab: base.vocab && fileUrl(base.vocab),
    },
    hypernet: { config: fileUrl(hypernet.config), weights: fileUrl(hypernet.weights) },
    prompt: files.prompt,
    limits: files.limits,
  });
};

const modelFile: Route = (ctx, req, res, url) => {
  const dir = dirParam(ctx, url);
  const name = url.searchParams.get('name') ?? '';
  if (!MODEL_FILE_NAMES.has(name))
    throw new HttpError(404, 'NotFound', `name: expected one of ${[...MODEL_FILE_NAMES].join(', ')}, got ${JSON.stringify(name)}`);
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) throw new HttpError(404, 'NotFound', `${file}: no such file`);
  sendFile(req, res, realFileUnderRoots(ctx.roots, file), name.endsWith('.json') ? STATIC_TYPES['.json']! : 'application/octet-stream', 'no-store');
};

const diff: Route = async (ctx, req, res) => {
  const body = await readJsonBody(req, ctx.maxBody);
  const a = requireString(body, 'a', 200);
  if (body.peftDir !== undefined) return sendJson(res, 200, { modules: await ctx.engine.diffWithPeft(a, underRoots(ctx, body.peftDir, 'peftDir')) });
  sendJson(res, 200, { modules: await ctx.engine.diff(a, requireString(body, 'b', 200)) });
};

/** The self-describing export: the files `tagi generate` writes, in one folder of a zip. */
const exportAdapter: Route = async (ctx, _req, res, url) => {
  const id = url.searchParams.get('adapter');
  if (!id) throw new HttpError(400, 'BadRequest', 'adapter: expected an adapter id');
  const exp = await ctx.engine.exportAdapter(id);
  const zip = writeZip(exp.files.map((f) => ({ name: `${exp.folder}/${f.name}`, data: f.data })));
  const name = `tagi-adapter-${id.replace(/[^\w-]/g, '')}.zip`;
  res.writeHead(200, {
    'content-type': 'application/zip',
    'content-length': zip.length,
    'content-disposition': `attachment; filename="${name}"`,
    'cache-control': 'no-store',
  });
  res.end(zip);
};

const ROUTES: Readonly<Record<string, Route>> = {
  'GET /api/health': health,
  'GET /api/runs': listRuns,
  'GET /api/run': runDetails,
  'GET /api/examples': examples,
  'POST /api/open': open,
  'POST /api/generate': generate,
  'POST /api/run': run,
  'POST /api/logits': logits,
  'GET /api/in-page': inPage,
  'GET /api/file': modelFile,
  'POST /api/diff': diff,
  'GET /api/export': exportAdapter,
};

/** Answers one API request by its method and path. */
export async function handleApi(ctx: ApiContext, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
  const route = `${req.method} ${url.pathname}`;
  const handler = Object.hasOwn(ROUTES, route) ? ROUTES[route] : undefined;
  if (!handler) throw new HttpError(404, 'NotFound', `no API route ${route}`);
  await handler(ctx, req, res, url);
}
