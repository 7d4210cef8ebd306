/**
 * @module transport/http/request-target
 * The path and query of a request, parsed once for the router, the page and
 * the WebSocket upgrade.
 *
 * Nearly every request names a plain path (`/api/orders`, `/api/orders/ID/status`,
 * `/ws?status=pending`): those are split at `?` by hand. Anything WHATWG URL
 * parsing would change (dot segments, percent escapes, backslashes, `//`,
 * unusual characters in the query) goes through `new URL`, so the router sees
 * the same pathname either way. `new URL` on every request was one of the
 * larger items left on the write path.
 */

/** What handlers read from a request target. */
export interface RequestTarget {
  readonly pathname: string;
  /** The decoded query; do not modify. */
  readonly searchParams: URLSearchParams;
}

/** Path characters URL parsing leaves as they are (besides `/`): unreserved, without the dot. */
const PATH_CHARACTERS = characterSet('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~-');

/** Query characters URL parsing leaves as they are and URLSearchParams decodes the same way. */
const QUERY_CHARACTERS = characterSet('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~.,:%=&+-');

const SLASH = 0x2f;

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
  if (isPlainPath(path) && isPlainQuery(query)) return new PlainTarget(path, query);
  try {
    return new URL(target, BASE);
  } catch {
    // Targets like "//" or raw spaces do not parse; the caller answers 400/404.
    return undefined;
  }
}

/**
 * Whether `path` is slash-separated segments of {@link PATH_CHARACTERS}
 * with no empty segment (`//`): one pass, one table lookup per character.
 * A regular expression with a quantified group of quantified characters
 * (`(?:[...]+\/?)*`) took exponential time on a run of them followed by
 * anything else, before any route or token was looked at.
 * @param path a request path
 */
export function isPlainPath(path: string): boolean {
  if (path.charCodeAt(0) !== SLASH) return false;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === SLASH ? path.charCodeAt(i - 1) === SLASH : c >= 128 || PATH_CHARACTERS[c] === 0) return false;
  }
  return true;
}

function isPlainQuery(query: string): boolean {
  for (let i = 0; i < query.length; i++) {
    const c = query.charCodeAt(i);
    if (c >= 128 || QUERY_CHARACTERS[c] === 0) return false;
  }
  return true;
}

/** A lookup table over ASCII: 1 for each character of `characters`. */
function characterSet(characters: string): Uint8Array {
  const set = new Uint8Array(128);
  for (let i = 0; i < characters.length; i++) set[characters.charCodeAt(i)] = 1;
  return set;
}
