/**
 * @module request-target
 * The path and query of a request, parsed once for the router, the page and
 * the WebSocket upgrade.
 *
 * Nearly every request names a plain path (`/api/orders`, `/api/orders/ID/status`,
 * `/ws?status=pending`): those are split at `?` by hand. Anything WHATWG URL
 * parsing would change (dot segments, percent escapes, backslashes, `//`,
 * unusual characters in the query) goes through `new URL`, so the router sees
 * the same pathname either way. `new URL` cost ~0.6 µs per request, one of the
 * larger items left on the write path.
 */

/** What handlers read from a request target. */
export interface RequestTarget {
  readonly pathname: string;
  /** The decoded query; do not modify. */
  readonly searchParams: URLSearchParams;
}

/** Slash-separated segments of unreserved characters, no empty segment (`//`), no dots. */
const PLAIN_PATH = /^\/(?:[A-Za-z0-9_~-]+\/?)*$/;

/** Query characters URL parsing leaves as they are and URLSearchParams decodes the same way. */
const PLAIN_QUERY = /^[A-Za-z0-9_~.,:%=&+-]*$/;

/** Base for targets URL parsing resolves; only the path and query are used. */
const BASE = 'http://localhost';

/** A plain target: the query is parsed only if someone asks for it. */
class PlainTarget implements RequestTarget {
  readonly pathname: string;
  readonly #query: string;
  #params: URLSearchParams | undefined;

  constructor(pathname: string, query: string) {
    this.pathname = pathname;
    this.#query = query;
  }

  get searchParams(): URLSearchParams {
    this.#params ??= new URLSearchParams(this.#query);
    return this.#params;
  }
}

/**
 * Parse a request target (`req.url`).
 * @param raw the target as received; `undefined` means `/`
 * @returns the target, or `undefined` when it is not a path URL parsing accepts (e.g. `//`)
 */
export function parseRequestTarget(raw: string | undefined): RequestTarget | undefined {
  const target = raw ?? '/';
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q + 1);
  if (PLAIN_PATH.test(path) && PLAIN_QUERY.test(query)) return new PlainTarget(path, query);
  try {
    return new URL(target, BASE);
  } catch {
    // Targets like "//" or raw spaces do not parse; the caller answers 400/404.
    return undefined;
  }
}
