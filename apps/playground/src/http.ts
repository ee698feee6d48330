// Small HTTP helpers: bounded JSON bodies and JSON errors that the page shows as they are.
import type { IncomingMessage, ServerResponse } from 'node:http';

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

export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof HttpError) {
    sendJson(res, err.status, { error: { type: err.type, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) } });
    return;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  sendJson(res, 500, { error: { type: e.name || 'Error', message: e.message } });
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
  if (typeof v !== 'string' || v.trim().length === 0) throw new HttpError(400, 'BadRequest', `${key}: expected a non-empty string`);
  if (v.length > maxChars) throw new HttpError(413, 'TooLong', `${key}: ${v.length} characters, more than the ${maxChars} allowed`);
  return v;
}
