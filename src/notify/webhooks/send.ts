/**
 * @module notify/webhooks/send
 * One delivery attempt: a POST to the endpoint's URL, connected to the
 * address that was checked (the lookup is pinned to it), never following
 * a redirect, cut off after the timeout. It never throws: every way it
 * can end is an {@link AttemptResult}.
 */

import { request as httpRequest, type Agent, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { resolveTarget, type CheckedAddress } from './address-policy.ts';

/** How one attempt ended. */
export interface AttemptResult {
  /** The HTTP status, or null when no answer came (refused, timed out, address refused). */
  readonly status: number | null;
  /** Why it failed, for people; absent on a 2xx. */
  readonly error?: string;
  readonly durationMs: number;
  /** What `Retry-After` asked for, in milliseconds (429 and 503 only). */
  readonly retryAfterMs?: number;
  /** No answer came within the timeout. */
  readonly timedOut?: boolean;
}

/** What an attempt sends. */
export interface AttemptRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
  readonly allowPrivate: boolean;
  /** Ends the attempt early (shutdown, the endpoint deleted). */
  readonly signal?: AbortSignal;
}

/** Connections kept open to one endpoint between attempts. */
export interface ConnectionPool {
  readonly http: Agent;
  readonly https: Agent;
}

/** Connections kept open to one endpoint at most: as many as its attempts in flight. */
export const MAX_CONNECTIONS_PER_ENDPOINT = 4;

/** Response bytes read at most (the body is only drained: receivers' answers are not kept). */
const MAX_RESPONSE_BYTES = 64 * 1024;

const USER_AGENT = 'liveorders-webhooks/1';

/**
 * Send one attempt.
 * @param attempt where, what, and how long to wait
 * @param pool the endpoint's kept connections; none: a connection for this attempt only
 */
export async function sendAttempt(attempt: AttemptRequest, pool?: ConnectionPool): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  let url: URL;
  let target: CheckedAddress;
  try {
    url = new URL(attempt.url);
    target = await resolveTarget(url.hostname, attempt.allowPrivate);
  } catch (error) {
    return { status: null, error: (error as Error).message, durationMs: elapsed() };
  }
  return new Promise<AttemptResult>((resolve) => {
    const https = url.protocol === 'https:';
    const request = https ? httpsRequest : httpRequest;
    // The connection goes to the address checked above, whatever DNS answers now; TLS still checks the name.
    const pinned: LookupFunction = (_hostname, options, callback) => {
      if ((options as { all?: boolean }).all === true) callback(null, [{ address: target.address, family: target.family }]);
      else callback(null, target.address, target.family);
    };
    const req = request(url, {
      method: 'POST',
      lookup: pinned,
      headers: { 'Content-Type': 'application/json', 'User-Agent': USER_AGENT, 'Content-Length': String(Buffer.byteLength(attempt.body)), ...attempt.headers },
      signal: attempt.signal,
      // A kept connection goes to the address checked when it was opened.
      agent: pool === undefined ? false : https ? pool.https : pool.http,
    });
    let settled = false;
    const finish = (result: AttemptResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const timer = setTimeout(() => {
      finish({ status: null, error: `no answer within ${attempt.timeoutMs} ms`, durationMs: elapsed(), timedOut: true });
      req.destroy();
    }, attempt.timeoutMs);
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) res.destroy();
      });
      const done = (): void => finish(outcome(status, res, elapsed()));
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      finish({ status: null, error: error.name === 'AbortError' ? 'cancelled' : `${error.code ?? 'error'}: ${error.message}`.slice(0, 300), durationMs: elapsed() });
    });
    req.end(attempt.body);
  });
}

/** Longest `Retry-After` honoured. */
export const MAX_RETRY_AFTER_MS = 3600_000;

/** The result of an answer: 2xx is a success; a redirect is a failure (never followed). */
function outcome(status: number, res: IncomingMessage, durationMs: number): AttemptResult {
  if (status >= 200 && status < 300) return { status, durationMs };
  const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(res.headers['retry-after']) : undefined;
  const error = status >= 300 && status < 400 ? `redirect to ${String(res.headers.location ?? '?').slice(0, 200)} not followed` : `HTTP ${status}`;
  return { status, error, durationMs, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
}

/**
 * A `Retry-After` value (seconds or an HTTP date) in milliseconds, capped at one hour.
 * @param header the header's value
 */
export function parseRetryAfter(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    ms = at - Date.now();
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}
