/**
 * @module client/notify
 * What the board says about changes, and how often. Toasts about other
 * people's new orders and screen-reader announcements are gathered for a
 * moment and said once: one toast per order the user made, a burst summed up
 * ("12 new orders"), and at most one announcement per interval however fast
 * the stream runs. The texts are pure functions, so node:test covers them.
 */

import type { Order, OrderEvent } from '../src/protocol.ts';
import { isolate } from './ui/dom.ts';

/** Changes this close together make one toast; also time for the answer to the user's own create to arrive. */
export const TOAST_WINDOW_MS = 700;
/** At most one live-region announcement this often. */
export const ANNOUNCE_INTERVAL_MS = 2000;
/** Up to this many changes are announced one by one; more are counted. */
const ANNOUNCE_EACH_MAX = 3;

/**
 * The toast for new orders made by others.
 * @param created their new orders, oldest first
 */
export function createdToast(created: readonly Order[]): string | undefined {
  if (created.length === 0) return undefined;
  if (created.length === 1) return `New order from ${isolate(created[0]!.customerName)}`;
  return `${created.length.toLocaleString()} new orders`;
}

/**
 * The announcement for changes gathered over one interval.
 * @param events applied events, oldest first
 */
export function announcement(events: readonly OrderEvent[]): string | undefined {
  if (events.length === 0) return undefined;
  if (events.length > ANNOUNCE_EACH_MAX) {
    const created = events.filter((e) => e.type === 'order.created').length;
    const parts = [`${events.length.toLocaleString()} changes`];
    if (created > 0) parts.push(`${created.toLocaleString()} of them new orders`);
    return `${parts.join(', ')}.`;
  }
  return events.map(sayEvent).join(' ');
}

function sayEvent(event: OrderEvent): string {
  const who = `Order ${event.order.id.slice(-8)} for ${isolate(event.order.customerName)}`;
  switch (event.type) {
    case 'order.created':
      return `New order ${event.order.id.slice(-8)} from ${isolate(event.order.customerName)}.`;
    case 'order.deleted':
      return `${who} was deleted.`;
    case 'order.updated':
      return `${who} is now ${event.order.status}.`;
  }
}

/** Items gathered and handed over together, at most once per window. */
export interface Batcher<T> {
  add(items: readonly T[]): void;
}

/** Options for {@link createBatcher}. */
export interface BatcherOptions {
  /** Flush the first items at once, then gather for a window (announcements); else wait a window first (toasts). */
  readonly leading?: boolean;
  /** While true, a due flush waits another window (e.g. the user's own create is in flight). */
  readonly hold?: () => boolean;
}

/**
 * Gather items and flush them together, at most once per `windowMs`.
 * @param windowMs how long to gather
 * @param flush receives what was gathered (never empty)
 * @param options leading edge, hold
 */
export function createBatcher<T>(windowMs: number, flush: (items: T[]) => void, options: BatcherOptions = {}): Batcher<T> {
  let items: T[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const due = (): void => {
    timer = undefined;
    if (items.length === 0) return;
    if (options.hold?.() === true) {
      timer = setTimeout(due, windowMs);
      return;
    }
    const batch = items;
    items = [];
    flush(batch);
    // Whatever arrives in the next window waits for its end.
    if (options.leading === true) timer = setTimeout(due, windowMs);
  };
  return {
    add(more) {
      if (more.length === 0) return;
      items.push(...more);
      if (timer !== undefined) return;
      if (options.leading === true) due();
      else timer = setTimeout(due, windowMs);
    },
  };
}
