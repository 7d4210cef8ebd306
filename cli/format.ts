/**
 * @module cli/format
 * How the terminal client prints snapshots, events and answers. Pure string
 * functions; colour only when asked. Text from users is stripped of control
 * characters so a customer name cannot send escape sequences to a terminal.
 */

import { ORDER_STATUSES, type Order, type OrderEvent, type OrderStatus, type SnapshotMessage } from '../src/protocol.ts';

const ANSI = { reset: '\u001b[0m', dim: '\u001b[2m', bold: '\u001b[1m' } as const;

/** Terminal colour per status. */
const STATUS_COLOURS: Readonly<Record<OrderStatus, string>> = {
  pending: '\u001b[33m', // yellow
  processing: '\u001b[34m', // blue
  shipped: '\u001b[35m', // magenta
  delivered: '\u001b[32m', // green
  cancelled: '\u001b[90m', // grey
};

/** Customer column widths: the table's, and the event lines' (padded so status changes line up). */
const CUSTOMER_WIDTH = 24;
const EVENT_CUSTOMER_WIDTH = 20;

/** Formatting switches. */
export interface FormatOptions {
  readonly color: boolean;
}

/**
 * The snapshot as a header line and a table, newest first.
 * @param snapshot the message
 * @param options colour or not
 */
export function formatSnapshot(snapshot: SnapshotMessage, options: FormatOptions): string {
  const counts = ORDER_STATUSES.map((s) => paint(`${s} ${snapshot.counts[s]}`, STATUS_COLOURS[s], options)).join(' · ');
  const shown = snapshot.orders.length < snapshot.total ? ` (newest ${snapshot.orders.length} shown)` : '';
  const header = `snapshot · seq ${snapshot.seq} · ${snapshot.total} order${snapshot.total === 1 ? '' : 's'}${shown} · ${counts}`;
  if (snapshot.orders.length === 0) return `${header}\n(no orders)`;
  const rows = snapshot.orders.map((o) => [o.id, fit(clean(o.customerName), CUSTOMER_WIDTH), o.status, String(units(o)), o.total === undefined ? '-' : o.total.toFixed(2), clock(o.updatedAt)]);
  const head = ['ID', 'CUSTOMER', 'STATUS', 'ITEMS', 'TOTAL', 'UPDATED'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[], status?: OrderStatus): string =>
    cells
      .map((cell, i) => {
        const padded = i === 3 || i === 4 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
        return i === 2 && status !== undefined ? paint(padded, STATUS_COLOURS[status], options) : padded;
      })
      .join('  ')
      .trimEnd();
  const table = [paint(line(head), ANSI.bold, options), ...rows.map((r, k) => line(r, snapshot.orders[k]!.status))];
  return `${header}\n${table.join('\n')}`;
}

/**
 * One event as one line: time, seq, event, order id, customer, status change.
 * @param event the event
 * @param options colour or not
 * @param now the receipt time, used for deletions (which carry no time of their own)
 */
export function formatEvent(event: OrderEvent, options: FormatOptions, now: Date = new Date()): string {
  const { order } = event;
  const time = event.type === 'order.deleted' ? clock(now.toISOString(), true) : clock(order.updatedAt, true);
  const status = paint(order.status, STATUS_COLOURS[order.status], options);
  let change: string;
  switch (event.type) {
    case 'order.created':
      change = status;
      break;
    case 'order.updated':
      change = `${paint(event.previousStatus, STATUS_COLOURS[event.previousStatus], options)} -> ${status}`;
      break;
    case 'order.deleted':
      change = `deleted (was ${status})`;
      break;
  }
  const customer = fit(clean(order.customerName), EVENT_CUSTOMER_WIDTH).padEnd(EVENT_CUSTOMER_WIDTH);
  return [paint(time, ANSI.dim, options), `#${event.seq}`, event.type.padEnd(13), order.id, customer, change].join('  ');
}

/**
 * An order, for `ack` answers.
 * @param order the order
 * @param options colour or not
 */
export function formatOrder(order: Order, options: FormatOptions): string {
  return `${order.id}  ${clean(order.customerName)}  ${paint(order.status, STATUS_COLOURS[order.status], options)}  v${order.version}`;
}

/**
 * Remove control characters (C0, DEL, C1) so user text cannot move the cursor or recolour the terminal.
 * @param text untrusted text
 */
export function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '�');
}

function paint(text: string, code: string, options: FormatOptions): string {
  return options.color ? `${code}${text}${ANSI.reset}` : text;
}

function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

function units(order: Order): number {
  return order.items.reduce((sum, item) => sum + item.quantity, 0);
}

/** Local wall-clock time of an ISO timestamp: HH:MM:SS, with milliseconds when asked. */
function clock(iso: string, millis = false): string {
  const d = new Date(iso);
  const two = (n: number): string => String(n).padStart(2, '0');
  const base = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return millis ? `${base}.${String(d.getMilliseconds()).padStart(3, '0')}` : base;
}
