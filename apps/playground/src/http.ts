// Small HTTP helpers: bounded JSON bodies and JSON errors that the page shows as they are.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeOsError } from './os-errors';
import { isBlank } from './text';

/** An error with an HTTP status and a machine-readable type; its message is shown in the page. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

/**
 * The one mapping from a thrown value to an HTTP error: HttpError as it is; an operating-system error
 * (ENOENT, EACCES, …) with its status and a message naming the path and what to do; anything else is a
 * bug in the playground, reported as an internal error (the server log has the stack).
 */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const os = describeOsError(err);
  if (os) return new HttpError(os.status, os.code, os.message);
  const e = err instanceof Error ? err : new Error(String(err));
  return new HttpError(500, 'InternalError', `internal error (a bug in the playground; its log has the details): ${e.name}: ${e.message}`);
}

export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const e = toHttpError(err);
  sendJson(res, e.status, { error: { type: e.type, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) } });
}

/** Reads a JSON object body of at most `limit` bytes; a larger one is refused with 413 before it is buffered. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    throw new HttpError(413, 'BodyTooLarge', `request body of ${declared} bytes is larger than the ${limit} bytes allowed`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw new HttpError(413, 'BodyTooLarge', `request body is larger than the ${limit} bytes allowed`);
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let parsed: unknown;
  try {
    parsed = text.length === 0 ? {} : JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, 'BadJson', `request body is not valid JSON: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new HttpError(400, 'BadJson', 'request body: expected a JSON object');
  return parsed as Record<string, unknown>;
}

export function requireString(body: Record<string, unknown>, key: string, maxChars: number): string {
  const v = body[key];
  if (typeof v !== 'string' || v.length === 0) throw new HttpError(400, 'BadRequest', `${key}: expected a non-empty string`);
  if (isBlank(v)) throw new HttpError(400, 'BadRequest', `${key}: only whitespace or invisible characters; type some text`);
  if (v.length > maxChars) throw new HttpError(413, 'TooLong', `${key}: ${v.length} characters, more than the ${maxChars} allowed`);
  return v;
}
