/**
 * @module transport/http/orders-csv
 * `GET /api/orders.csv`: the orders a list query's filters select, newest
 * first, as RFC 4180 CSV, streamed in chunks that wait for the socket to
 * drain, so 100,000 orders never become one string. Cells that a
 * spreadsheet would run as a formula are defused (OWASP CSV injection).
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Order } from '../../protocol.ts';
import { requestIdField } from './request-log.ts';
import type { ApiContext, RouteMatch } from './context.ts';
import { seesCustomerContact } from '../../security/auth.ts';
import { sendProblem } from './io.ts';
import { matchingOrders, parseExportQuery } from './order-search.ts';

/** The header row. */
export const CSV_COLUMNS = ['id', 'customerName', 'customerEmail', 'status', 'items', 'total', 'version', 'createdAt', 'updatedAt'] as const;

/** Bytes of rows gathered before a chunk is written (about 200 orders). */
const CHUNK_CHARS = 64 * 1024;

/** Characters that make a spreadsheet read a cell as a formula (and tab and CR, which some readers strip first). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A cell that needs quoting in RFC 4180. */
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One CSV cell: defused when it would start a formula (a leading `'`, as
 * OWASP advises), quoted when it holds a comma, quote or line break.
 * @param value the text
 */
export function csvCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/**
 * One order as a CSV row (with its CRLF). Items read `2 x keyboard; 1 x mouse`.
 * @param order the order
 * @param redacted leave the customerEmail cell empty (the column stays, so every export has the same columns)
 */
export function csvRow(order: Order, redacted = false): string {
  const items = order.items.map((item) => `${item.quantity} x ${item.name}`).join('; ');
  return [
    order.id,
    csvCell(order.customerName),
    csvCell(redacted ? '' : (order.customerEmail ?? '')),
    order.status,
    csvCell(items),
    order.total === undefined ? '' : order.total.toFixed(2),
    String(order.version),
    order.createdAt,
    order.updatedAt,
  ].join(',') + '\r\n';
}

/** `GET /api/orders.csv`: every order the filters select, streamed. */
export async function exportOrders(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, { url, principal }: RouteMatch): Promise<void> {
  const redacted = !seesCustomerContact(principal);
  const filter = parseExportQuery(url.searchParams);
  if (!filter.ok) return sendProblem(res, filter.error);
  res.writeHead(200, {
    'Content-Type': 'text/csv; charset=utf-8; header=present',
    'Content-Disposition': 'attachment; filename="orders.csv"',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...requestIdField(res),
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  let chunk = `${CSV_COLUMNS.join(',')}\r\n`;
  for (const order of matchingOrders(ctx.orders, filter.value)) {
    chunk += csvRow(order, redacted);
    if (chunk.length < CHUNK_CHARS) continue;
    if (res.destroyed) return; // the client left: nobody reads the rest
    const more = res.write(chunk);
    chunk = '';
    if (!more && !(await drained(res))) return;
  }
  res.end(chunk);
}

/**
 * Resolves true once the response can take more, false when the client went
 * away (then the walk stops: nobody reads the rest).
 */
function drained(res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (more: boolean) => (): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(more);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}
