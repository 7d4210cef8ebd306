/**
 * @module edge
 * Browser-facing rules: which origins may open a WebSocket (against
 * cross-site WebSocket hijacking), CORS (off unless configured), and which
 * addresses count as loopback.
 */

/**
 * Whether an address is loopback (127.0.0.0/8, ::1, localhost, or an IPv4-mapped loopback).
 * @param address a host name or IP
 */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.toLowerCase().replace(/^\[|\]$/g, '');
  return a === 'localhost' || a === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/**
 * Whether a browser page from `origin` may open a WebSocket here: the same
 * origin as the request's Host, any loopback origin, or one configured.
 * Requests without an Origin header come from non-browser clients, which a
 * cross-site attack cannot drive, and are allowed.
 * @param origin the Origin header
 * @param host the Host header
 * @param allowed configured extra origins (exact, e.g. `https://board.example.com`)
 */
export function isAllowedOrigin(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    // "null" (sandboxed frames, file: pages) and garbage: not an origin we trust.
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (url.origin !== origin.replace(/\/$/, '')) return false;
  if (host !== undefined && url.host === host.toLowerCase()) return true;
  if (isLoopback(url.hostname)) return true;
  return allowed.includes(url.origin);
}

/** Headers a CORS preflight may ask for. */
const CORS_ALLOWED_HEADERS = 'Authorization, Content-Type, If-Match, Idempotency-Key';

/** What {@link corsHeaders} returns when there is nothing to send: shared, not built per request. */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * CORS response headers for `origin`, or none when it is not configured (the default).
 * @param origin the Origin header
 * @param allowed configured origins; `*` allows any (without credentials)
 */
export function corsHeaders(origin: string | undefined, allowed: readonly string[]): Readonly<Record<string, string>> {
  if (origin === undefined || allowed.length === 0) return NO_HEADERS;
  const ok = allowed.includes('*') || allowed.includes(origin);
  if (!ok) return NO_HEADERS;
  return {
    'Access-Control-Allow-Origin': allowed.includes('*') ? '*' : origin,
    'Access-Control-Allow-Headers': CORS_ALLOWED_HEADERS,
    'Access-Control-Expose-Headers': 'ETag, Location, Link, X-Total-Count, Retry-After',
    'Access-Control-Max-Age': '600',
    Vary: 'Origin',
  };
}
