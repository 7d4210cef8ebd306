/**
 * @module cli/order-ref
 * `--order` takes a whole order id or the last 8+ hex digits of one (the
 * short id the page and the table show). A short one is looked up through
 * the REST API's search (`GET /api/orders?q=`) on the server the socket URL
 * points at, and must name exactly one order.
 */

import { isOrderId, type Order } from '../src/protocol.ts';
import { EXIT } from './args.ts';

/** Orders asked for per lookup: more than one is ambiguous, and names may match the digits too. */
const LOOKUP_LIMIT = 1000;

/** Ids shown when a short id is ambiguous. */
const SHOWN_MATCHES = 5;

/** A short id resolved, or why not with the exit code to leave with. */
export type OrderRefResult = { readonly ok: true; readonly orderId: string } | { readonly ok: false; readonly code: number; readonly message: string };

/**
 * The REST address of the server a WebSocket URL points at.
 * @param socketUrl e.g. ws://localhost:8000/ws
 * @param path e.g. /api/orders
 */
export function restUrl(socketUrl: URL, path: string): URL {
  const url = new URL(path, socketUrl);
  url.protocol = socketUrl.protocol === 'wss:' ? 'https:' : 'http:';
  return url;
}

/**
 * The whole id of the one order whose id ends with `ref`.
 * @param socketUrl where the client connects (the API is on the same host and port)
 * @param ref a whole id or 8+ trailing hex digits
 * @param token the role token, when the server has tokens on
 */
export async function resolveOrderRef(socketUrl: URL, ref: string, token?: string): Promise<OrderRefResult> {
  const suffix = ref.toLowerCase();
  if (isOrderId(suffix)) return { ok: true, orderId: suffix };
  const url = restUrl(socketUrl, '/api/orders');
  url.searchParams.set('q', suffix);
  url.searchParams.set('limit', String(LOOKUP_LIMIT));
  let res: Response;
  try {
    res = await fetch(url, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    return { ok: false, code: EXIT.unreachable, message: `--order ${ref}: cannot look the short id up at ${url.origin} (${cause})` };
  }
  if (res.status === 401 || res.status === 403) return { ok: false, code: EXIT.rejected, message: `--order ${ref}: the server refused the lookup (${res.status}); give --token, or the whole order id` };
  if (!res.ok) return { ok: false, code: EXIT.serverError, message: `--order ${ref}: the lookup failed with HTTP ${res.status}; give the whole order id` };
  const orders = (await res.json()) as Order[];
  // q also matches names holding the digits: only ids count here.
  const matches = orders.filter((order) => order.id.endsWith(suffix)).map((order) => order.id);
  if (matches.length === 1) return { ok: true, orderId: matches[0]! };
  if (matches.length === 0) return { ok: false, code: EXIT.usage, message: `--order ${ref}: no order id ends with ${suffix}` };
  const shown = matches.slice(0, SHOWN_MATCHES).join(', ');
  return { ok: false, code: EXIT.usage, message: `--order ${ref} is ambiguous: ${matches.length} order ids end with it (${shown}${matches.length > SHOWN_MATCHES ? ', …' : ''}); give more digits` };
}
