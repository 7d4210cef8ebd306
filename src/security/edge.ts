/**
 * @module security/edge
 * Browser-facing rules: which Host names open mode answers (against DNS
 * rebinding), which origins may open a WebSocket (against cross-site
 * WebSocket hijacking), CORS (off unless configured), and which addresses
 * count as loopback.
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
 * The host name of a `Host` header, lowercased (`[::1]` keeps its brackets),
 * or `undefined` when it is not `host[:port]`.
 * @param host the Host header
 */
export function hostNameOf(host: string): string | undefined {
  const h = host.trim().toLowerCase();
  const end = h.startsWith('[') ? h.indexOf(']') + 1 : h.includes(':') ? h.lastIndexOf(':') : h.length;
  if (end <= 0) return undefined;
  const port = h.slice(end);
  if (port !== '' && !/^:\d{1,5}$/.test(port)) return undefined;
  const name = h.slice(0, end);
  return name === '' ? undefined : name;
}

/**
 * Whether a request with this `Host` may be answered in open mode: loopback
 * names (`localhost`, `127.0.0.1`, `[::1]`, any port) and the configured
 * host names only. A page on `rebind.attacker.example` whose name the
 * attacker points at 127.0.0.1 reaches the service with its own name in
 * `Host`, and is refused. Requests without a Host (no browser sends one) pass.
 * @param host the Host header
 * @param allowedHosts configured host names (`ALLOWED_HOSTS`), lowercase, without ports
 */
export function isAllowedHost(host: string | undefined, allowedHosts: readonly string[]): boolean {
  if (host === undefined) return true;
  const name = hostNameOf(host);
  return name !== undefined && (isLoopback(name) || allowedHosts.includes(name));
}

/**
 * Whether a browser page from `origin` may open a WebSocket here: a loopback
 * origin, a configured origin, or one on a configured host name. The Host
 * header is never trusted as our own origin: under DNS rebinding an
 * attacker's page and its Host header name the same attacker host.
 * Requests without an Origin header come from non-browser clients, which a
 * cross-site attack cannot drive, and are allowed.
 * @param origin the Origin header
 * @param allowedOrigins configured extra origins (exact, e.g. `https://board.example.com`)
 * @param allowedHosts configured host names: pages served from them are ours
 */
export function isAllowedOrigin(origin: string | undefined, allowedOrigins: readonly string[], allowedHosts: readonly string[] = []): boolean {
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
  if (isLoopback(url.hostname)) return true;
  return allowedOrigins.includes(url.origin) || allowedHosts.includes(url.hostname);
}

/**
 * Whether `entry` is a host name as `ALLOWED_HOSTS` takes it: DNS labels of
 * letters, digits and hyphens, or a bracketed IPv6 address; no port.
 * @param entry one configured value, lowercased
 */
export function isHostNameEntry(entry: string): boolean {
  if (entry.startsWith('[')) return /^\[[0-9a-f:.]{2,45}\]$/.test(entry);
  return entry.length <= 253 && entry.split('.').every((label) => /^[a-z0-9-]{1,63}$/.test(label) && !label.startsWith('-') && !label.endsWith('-'));
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
    'Access-Control-Expose-Headers': 'ETag, Location, Link, X-Total-Count, Retry-After, Liveorders-Stale',
    'Access-Control-Max-Age': '600',
    Vary: 'Origin',
  };
}
