/**
 * @module transport/http/io
 * Reading request bodies and writing JSON and problem+json (RFC 9457)
 * responses. Every error response in the service goes through
 * {@link sendProblem}.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { isUtf8 } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { ERROR_CODES, PROBLEM_CONTENT_TYPE, ProtocolError, encodeProblem, fail, parseJson, type Result } from '../../protocol.ts';
import { REQUEST_ID_HEADER, requestIdOf } from './request-log.ts';
import { queueResponse } from './response-batch.ts';

/** Headers on every response, as [name, value, ...]. */
const COMMON_FIELDS = ['X-Content-Type-Options', 'nosniff'] as const;

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * Write a JSON response.
 * @param res the response
 * @param status HTTP status
 * @param body anything JSON can represent
 * @param headers extra headers
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendEncodedJson(res, status, JSON.stringify(body), headers);
}

/**
 * Write JSON that is already serialised, ending it with a newline so that a
 * shell prompt does not land on the end of `curl`'s output.
 * @param res the response
 * @param status HTTP status
 * @param json the JSON text
 * @param headers extra headers (Content-Type is JSON unless given)
 */
export function sendEncodedJson(res: ServerResponse, status: number, json: string, headers: Readonly<Record<string, string>> = {}): void {
  sendText(res, status, `${json}\n`, { 'Content-Type': JSON_CONTENT_TYPE, 'Cache-Control': 'no-store', ...headers });
}

/**
 * Write a body that is already serialised. The answer leaves at the end of
 * this event-loop turn, together with the others ({@link queueResponse}).
 * @param res the response
 * @param status HTTP status
 * @param body the body (omitted on HEAD)
 * @param headers headers including Content-Type
 */
export function sendText(res: ServerResponse, status: number, body: string | Buffer, headers: Readonly<Record<string, string>>): void {
  // A flat [name, value, ...] list goes to the socket as is; an object would be walked and copied per response.
  const fields: string[] = [...COMMON_FIELDS, 'Content-Length', String(Buffer.byteLength(body))];
  const requestId = requestIdOf(res);
  if (requestId !== undefined) fields.push(REQUEST_ID_HEADER, requestId);
  for (const name in headers) fields.push(name, headers[name]!);
  // A string body stays a string: node:http sends it in one write with the head, with no Buffer to allocate.
  queueResponse(res, status, fields, res.req.method === 'HEAD' ? undefined : body);
}

/**
 * Write an empty response (204, or 405/OPTIONS answers).
 * @param res the response
 * @param status HTTP status
 * @param headers extra headers
 */
export function sendEmpty(res: ServerResponse, status: number, headers: Readonly<Record<string, string>> = {}): void {
  const fields: string[] = [...COMMON_FIELDS];
  const requestId = requestIdOf(res);
  if (requestId !== undefined) fields.push(REQUEST_ID_HEADER, requestId);
  for (const name in headers) fields.push(name, headers[name]!);
  queueResponse(res, status, fields, undefined);
}

/**
 * Write an error as `application/problem+json` ({@link encodeProblem}).
 * @param res the response
 * @param error the error to render
 * @param headers extra headers (e.g. `Allow`)
 */
export function sendProblem(res: ServerResponse, error: ProtocolError, headers: Record<string, string> = {}): void {
  const { status } = ERROR_CODES[error.code];
  sendEncodedJson(res, status, encodeProblem(error, res.req.url, requestIdOf(res)), { 'Content-Type': PROBLEM_CONTENT_TYPE, ...headers });
}

/**
 * Whether a Content-Type header names JSON (`application/json` or `application/*+json`, any parameters).
 * @param header the raw header value
 */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  if (header === 'application/json') return true; // what nearly every client sends
  const mediaType = header.split(';', 1)[0]!.trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
}

/**
 * Read and parse a JSON request body, refusing wrong content types (415),
 * bodies over `maxBytes` (413), invalid UTF-8 and malformed JSON (400).
 *
 * When the client goes away before the body ends, the promise never settles:
 * there is nobody to answer, and the pending handler is collected with the
 * request. (Listening for 'close' and 'error' to settle it instead was a
 * measurable share of a create's cost; without an 'error' listener node:http does
 * not emit one. test/http-api.test.ts covers both ways of leaving.)
 * @param req the request
 * @param maxBytes body size limit in bytes
 */
export function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<Result<unknown>> {
  if (!isJsonContentType(req.headers['content-type'])) {
    req.resume();
    return Promise.resolve(
      fail(new ProtocolError('LO_ERR_UNSUPPORTED_MEDIA_TYPE', 'Send the body as JSON with "Content-Type: application/json"')),
    );
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve(fail(tooLarge(maxBytes)));
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Inline listeners, left in place: settling a promise twice is a no-op, and named closures
    // cost a defineProperty each under tsx (esbuild's keepNames) on every request.
    req.on('data', (chunk: Buffer) => {
      if (size > maxBytes) return;
      size += chunk.length;
      if (size > maxBytes) resolve(fail(tooLarge(maxBytes)));
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (size <= maxBytes) resolve(decodeJson(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    });
  });
}

/**
 * After a 413 the rest of the body is never read: ask the client to close so
 * the connection is not reused with unread bytes on it.
 */
export const CLOSE_AFTER_RESPONSE = { Connection: 'close' } as const;

function tooLarge(maxBytes: number): ProtocolError {
  return new ProtocolError('LO_ERR_PAYLOAD_TOO_LARGE', `The body exceeds ${maxBytes} bytes`);
}

function decodeJson(bytes: Buffer): Result<unknown> {
  if (bytes.length === 0) return fail(new ProtocolError('LO_ERR_BAD_JSON', 'The body is empty; send a JSON object'));
  // toString would silently replace invalid sequences with U+FFFD; refuse them instead.
  if (!isUtf8(bytes)) return fail(new ProtocolError('LO_ERR_BAD_JSON', 'The body is not valid UTF-8'));
  return parseJson(bytes.toString('utf8'));
}

/**
 * Answer on a raw socket (a refused WebSocket upgrade, or a request Node could
 * not parse) with a plain-text HTTP response, then close it.
 * @param socket the connection
 * @param status HTTP status
 * @param title reason phrase
 * @param detail body text
 */
export function writeRawResponse(socket: Duplex, status: number, title: string, detail: string = title): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${detail}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `X-Content-Type-Options: nosniff\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

/**
 * Answer on a raw socket (a refused WebSocket upgrade) with a problem+json
 * response, as REST errors are, then close it.
 * @param socket the connection
 * @param error what went wrong; its code gives the status
 * @param instance the request target, for the problem's `instance`
 * @param headers extra header lines (e.g. `Retry-After`)
 */
export function writeRawProblem(socket: Duplex, error: ProtocolError, instance: string | undefined, headers: Readonly<Record<string, string>> = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const { status, title } = ERROR_CODES[error.code];
  const body = `${encodeProblem(error, instance)}\n`;
  let head = `HTTP/1.1 ${status} ${title}\r\nConnection: close\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nX-Content-Type-Options: nosniff\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]!}\r\n`;
  socket.end(`${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, () => socket.destroy());
}
