/**
 * @module cli/format
 * How the terminal client prints snapshots, events and answers. Pure string
 * functions; colour only when asked. Text from users has its control
 * characters replaced so a customer name cannot send escape sequences to a
 * terminal, nor bidirectional controls that reorder the line in terminals
 * that lay out right-to-left text (older data may hold them).
 *
 * Given a width (a terminal's), every line fits in it: long ids become short
 * ones, columns narrow, and as a last resort the line is cut, so nothing
 * wraps. Without one (a pipe), lines are as wide as their content and ids are
 * whole, which is what scripts parse.
 */

import { ORDER_STATUSES, type Order, type OrderEvent, type OrderStatus, type SnapshotMessage } from '../src/protocol.ts';
import { ANSI, COLUMN_GAP, packParts, renderLine, type Piece } from './line.ts';
import { cellWidth, fitCells, padEndCells, padStartCells } from './width.ts';

/** Terminal colour per status. */
const STATUS_COLOURS: Readonly<Record<OrderStatus, string>> = {
  pending: '\u001b[33m', // yellow
  processing: '\u001b[34m', // blue
  shipped: '\u001b[35m', // magenta
  delivered: '\u001b[32m', // green
  cancelled: '\u001b[90m', // grey
};

/** Customer column widths, in cells: the table's, and the event lines' (padded so status changes line up). */
const CUSTOMER_WIDTH = 24;
const EVENT_CUSTOMER_WIDTH = 20;
/** Below this many cells a customer name says too little: the line is cut at its end instead. */
const MIN_CUSTOMER_WIDTH = 6;
/** Cells of the longest status change ("deleted (was processing)"), kept free so changes line up. */
const CHANGE_WIDTH = Math.max(...ORDER_STATUSES.map((s) => `deleted (was ${s})`.length));
/** Width of the event type column: the longest type, "order.created" and its kin. */
const EVENT_TYPE_WIDTH = 'order.created'.length;
/** Hex digits in a short id. */
const SHORT_ID_LENGTH = 8;
/**
 * Cells the "#seq" column takes at least in a terminal, so the columns after
 * it do not move each time seq gains a digit (up to #99999).
 */
const SEQ_COLUMN_WIDTH = 6;

/** Formatting switches. */
export interface FormatOptions {
  readonly color: boolean;
  /** Cells per line (the terminal's width); undefined for no limit, with whole ids. */
  readonly width?: number;
}

/**
 * An order id as the page shows it when space is short: its last 8 hex
 * digits. The first ones are the UUID v7 timestamp, shared by orders made
 * around the same time; the last ones are random.
 * @param id an order id
 */
export function shortId(id: string): string {
  return id.slice(-SHORT_ID_LENGTH);
}

/**
 * The snapshot as a header and a table, newest first.
 * @param snapshot the message
 * @param options colour, width
 */
export function formatSnapshot(snapshot: SnapshotMessage, options: FormatOptions): string {
  const { color, width } = options;
  const shown = snapshot.orders.length < snapshot.total ? ` (newest ${snapshot.orders.length} shown)` : '';
  const summary: Piece[][] = [[['snapshot']], [[`seq ${snapshot.seq}`]], [[`${snapshot.total} order${snapshot.total === 1 ? '' : 's'}${shown}`]]];
  // Watching one order (--order), the store's counts say nothing about it: count what the view holds.
  const byStatus = snapshot.view.orderId === undefined ? snapshot.counts : countByStatus(snapshot.orders);
  const counts = ORDER_STATUSES.map((s): Piece[] => [[`${s} ${byStatus[s]}`, STATUS_COLOURS[s]]]);
  const oneLine = packParts([...summary, ...counts], color, width);
  // Too wide for one line: the counts go on lines of their own rather than breaking anywhere.
  const header = oneLine.length === 1 ? oneLine : [...packParts(summary, color, width), ...packParts(counts, color, width)];
  if (snapshot.orders.length === 0) return [...header, '(no orders)'].join('\n');
  return [...header, ...formatTable(snapshot.orders, options)].join('\n');
}

/** Which columns are right-aligned (ITEMS, TOTAL), and which holds the status (painted). */
const RIGHT_ALIGNED = new Set([3, 4]);
const STATUS_COLUMN = 2;
const CUSTOMER_COLUMN = 1;

function formatTable(orders: readonly Order[], options: FormatOptions): string[] {
  const { color, width } = options;
  const head = ['ID', 'CUSTOMER', 'STATUS', 'ITEMS', 'TOTAL', 'UPDATED'];
  const row = (o: Order, id: string): string[] => [id, clean(o.customerName), o.status, String(units(o)), o.total === undefined ? '-' : o.total.toFixed(2), clock(o.updatedAt)];
  const measure = (rows: string[][]): number[] => head.map((h, i) => Math.max(h.length, ...rows.map((r) => cellWidth(r[i]!))));
  let rows = orders.map((o) => row(o, o.id));
  let widths = measure(rows);
  widths[CUSTOMER_COLUMN] = Math.min(widths[CUSTOMER_COLUMN]!, CUSTOMER_WIDTH);
  const total = (): number => widths.reduce((sum, w) => sum + w, 0) + COLUMN_GAP.length * (widths.length - 1);
  if (width !== undefined && total() > width) {
    rows = orders.map((o) => row(o, shortId(o.id)));
    widths = measure(rows);
    const others = total() - widths[CUSTOMER_COLUMN]!;
    widths[CUSTOMER_COLUMN] = Math.max(MIN_CUSTOMER_WIDTH, Math.min(widths[CUSTOMER_COLUMN]!, CUSTOMER_WIDTH, width - others));
  }
  const line = (cells: readonly string[], status?: OrderStatus): string => {
    const pieces: Piece[] = [];
    cells.forEach((cell, i) => {
      if (i > 0) pieces.push([COLUMN_GAP]);
      const fitted = fitCells(cell, widths[i]!);
      const last = i === cells.length - 1;
      const padded = RIGHT_ALIGNED.has(i) ? padStartCells(fitted, widths[i]!) : last ? fitted : padEndCells(fitted, widths[i]!);
      pieces.push([padded, i === STATUS_COLUMN && status !== undefined ? STATUS_COLOURS[status] : undefined]);
    });
    return renderLine(pieces, color, width);
  };
  const headLine = renderLine([[line(head), ANSI.bold]], color, undefined);
  return [headLine, ...rows.map((r, k) => line(r, orders[k]!.status))];
}

/** How much of an event line to show, from all of it down to what fits in a narrow terminal. */
interface EventLayout {
  readonly shortId: boolean;
  /** "order.created", "created", or no type column (the status change then says "new" for a creation). */
  readonly type: 'full' | 'short' | 'none';
  readonly millis: boolean;
  /** The narrowest customer column this layout accepts before trying the next. */
  readonly minCustomer: number;
}

const EVENT_LAYOUTS: readonly EventLayout[] = [
  { shortId: false, type: 'full', millis: true, minCustomer: EVENT_CUSTOMER_WIDTH },
  { shortId: true, type: 'full', millis: true, minCustomer: EVENT_CUSTOMER_WIDTH },
  { shortId: true, type: 'short', millis: true, minCustomer: MIN_CUSTOMER_WIDTH },
  { shortId: true, type: 'none', millis: false, minCustomer: MIN_CUSTOMER_WIDTH },
];

function countByStatus(orders: readonly Order[]): SnapshotMessage['counts'] {
  const counts = { pending: 0, processing: 0, shipped: 0, delivered: 0, cancelled: 0 };
  for (const order of orders) counts[order.status]++;
  return counts;
}

/**
 * One event as one line: time, seq, event, order id, customer, status change.
 * @param event the event
 * @param options colour, width
 * @param now the receipt time, used for deletions (which carry no time of their own)
 */
export function formatEvent(event: OrderEvent, options: FormatOptions, now: Date = new Date()): string {
  const { order } = event;
  const { color, width } = options;
  const at = event.type === 'order.deleted' ? now.toISOString() : order.updatedAt;
  const seq = width === undefined ? `#${event.seq}` : padEndCells(`#${event.seq}`, SEQ_COLUMN_WIDTH);
  const layout = width === undefined ? EVENT_LAYOUTS[0]! : (EVENT_LAYOUTS.find((l) => width - fixedCells(l, seq) >= l.minCustomer) ?? EVENT_LAYOUTS.at(-1)!);
  const change = statusChange(event, layout.type === 'none');
  // The last layout gives the customer what the actual change leaves, not what the widest one would.
  const reserved = layout === EVENT_LAYOUTS.at(-1) ? fixedCells(layout, seq) - CHANGE_WIDTH + change.reduce((sum, [text]) => sum + cellWidth(text), 0) : fixedCells(layout, seq);
  const customerWidth = width === undefined ? EVENT_CUSTOMER_WIDTH : Math.max(MIN_CUSTOMER_WIDTH, Math.min(EVENT_CUSTOMER_WIDTH, width - reserved));
  const typeName = layout.type === 'full' ? padEndCells(event.type, EVENT_TYPE_WIDTH) : event.type.slice('order.'.length);
  const pieces: Piece[] = [
    [clock(at, layout.millis), ANSI.dim],
    [COLUMN_GAP + seq + COLUMN_GAP],
    ...(layout.type === 'none' ? [] : [[typeName + COLUMN_GAP] as const]),
    [(layout.shortId ? shortId(order.id) : order.id) + COLUMN_GAP],
    [padEndCells(fitCells(clean(order.customerName), customerWidth), customerWidth) + COLUMN_GAP],
    ...change,
  ];
  return renderLine(pieces, color, width);
}

/** Cells of an event line other than the customer's, with the status change at its widest. */
function fixedCells(layout: EventLayout, seq: string): number {
  const time = layout.millis ? 'HH:MM:SS.mmm'.length : 'HH:MM:SS'.length;
  const type = { full: EVENT_TYPE_WIDTH + COLUMN_GAP.length, short: 'created'.length + COLUMN_GAP.length, none: 0 }[layout.type];
  const id = layout.shortId ? SHORT_ID_LENGTH : 36;
  return time + seq.length + type + id + CHANGE_WIDTH + COLUMN_GAP.length * 4;
}

/**
 * The status change: the new status, "old -> new", or "deleted (was status)".
 * @param event the event
 * @param sayNew whether to say "new" for a creation (when no type column does)
 */
function statusChange(event: OrderEvent, sayNew: boolean): Piece[] {
  const status: Piece = [event.order.status, STATUS_COLOURS[event.order.status]];
  switch (event.type) {
    case 'order.created':
      return sayNew ? [['new '], status] : [status];
    case 'order.updated':
      return [[event.previousStatus, STATUS_COLOURS[event.previousStatus]], [' -> '], status];
    case 'order.deleted':
      return [['deleted (was '], status, [')']];
  }
}

/**
 * An order, for `ack` answers: the whole id (to copy into `--order`), customer, status, version.
 * @param order the order
 * @param options colour, width
 * @param label what to put first (e.g. "ack c1"), if anything
 */
export function formatOrder(order: Order, options: FormatOptions, label?: string): string {
  const { color, width } = options;
  const head = `${label === undefined ? '' : label + COLUMN_GAP}${order.id}${COLUMN_GAP}`;
  const tail = `${COLUMN_GAP}${order.status}${COLUMN_GAP}v${order.version}`;
  const name = clean(order.customerName);
  const room = width === undefined ? undefined : Math.max(MIN_CUSTOMER_WIDTH, width - cellWidth(head) - cellWidth(tail));
  const pieces: Piece[] = [
    [`${head}${room === undefined ? name : fitCells(name, room)}${COLUMN_GAP}`],
    [order.status, STATUS_COLOURS[order.status]],
    [`${COLUMN_GAP}v${order.version}`],
  ];
  return renderLine(pieces, color, width);
}

/**
 * A new order's tracking token, and the customer page it opens. Neither is
 * ever cut: a shortened token or link is useless.
 * @param token the tracking token from the `ack`
 * @param pageUrl the customer page's URL
 */
export function formatTracking(token: string, pageUrl: string): string {
  return `tracking token  ${token}\ncustomer page   ${pageUrl}`;
}

/**
 * Replace control characters (C0, DEL, C1) and the explicit bidi controls
 * (U+202A-U+202E, U+2066-U+2069) with U+FFFD, so user text can neither move
 * the cursor, recolour the terminal, nor reorder the rest of the line.
 * @param text untrusted text
 */
export function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '�');
}

/**
 * A server frame (JSON) for `--json` output: DEL, C1 and bidi controls,
 * which JSON leaves as they are, written as `\uXXXX` escapes. They can only
 * stand inside strings, so the JSON means the same, but a terminal showing
 * it is not steered by them.
 * @param json a frame's text
 */
export function jsonForTerminal(json: string): string {
  return json.replace(/[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function units(order: Order): number {
  return order.items.reduce((sum, item) => sum + item.quantity, 0) + (order.lines ?? []).reduce((sum, line) => sum + line.quantity, 0);
}

/** Local wall-clock time of an ISO timestamp: HH:MM:SS, with milliseconds when asked. */
function clock(iso: string, millis = false): string {
  const d = new Date(iso);
  const two = (n: number): string => String(n).padStart(2, '0');
  const base = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return millis ? `${base}.${String(d.getMilliseconds()).padStart(3, '0')}` : base;
}
