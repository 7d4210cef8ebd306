/**
 * @module client/ui/activity
 * The stream as it happens: a compact feed of the latest changes (time,
 * seq, what changed), including those far below the fold, and the server's
 * live numbers (connections, events per second, seq).
 */

import type { OrderEvent } from '../../src/protocol.ts';
import { count, isolate, requireElement, shortId, textElement } from './dom.ts';

/** Entries kept in the feed; older ones drop off the end. */
const FEED_MAX = 50;

/** Live numbers for the panel; `undefined` fields are not known (yet, or while the server is unreachable). */
export interface LiveNumbers {
  readonly connections: number | undefined;
  readonly eventsPerSecond: number | undefined;
  /** The latest seq known, from the stream or a poll, whichever is newer. */
  readonly seq: number | undefined;
}

/** The activity panel. */
export interface ActivityPanel {
  /** Add applied events, newest on top. */
  addEvents(events: readonly OrderEvent[]): void;
  /** Add a line that is not an event (a reset, say). */
  addNote(text: string): void;
  showNumbers(numbers: LiveNumbers): void;
}

/**
 * Build the panel over `#activity`.
 * @param doc the document
 */
export function createActivityPanel(doc: Document): ActivityPanel {
  const root = requireElement<HTMLElement>(doc, '#activity');
  const list = requireElement<HTMLOListElement>(root, '#activity-list');
  const empty = requireElement<HTMLElement>(root, '#activity-empty');
  const numbers = {
    connections: requireElement<HTMLElement>(root, '[data-stat="connections"]'),
    rate: requireElement<HTMLElement>(root, '[data-stat="rate"]'),
    seq: requireElement<HTMLElement>(root, '[data-stat="seq"]'),
  };

  function prepend(entries: HTMLLIElement[]): void {
    if (entries.length === 0) return;
    const fragment = doc.createDocumentFragment();
    // Newest first: the last entries given are the newest.
    for (let i = entries.length - 1; i >= 0; i--) fragment.append(entries[i]!);
    list.prepend(fragment);
    while (list.children.length > FEED_MAX) list.lastElementChild?.remove();
    empty.hidden = true;
  }

  function entry(at: string, seq: string, text: string, kind: string): HTMLLIElement {
    const li = doc.createElement('li');
    li.className = `feed-${kind}`;
    const time = textElement(doc, 'time', new Date(at).toLocaleTimeString());
    time.dateTime = at;
    li.append(time, textElement(doc, 'span', seq, 'feed-seq'), textElement(doc, 'span', text, 'feed-text'));
    return li;
  }

  return {
    addEvents(events) {
      // Only the newest FEED_MAX can be shown: a burst of thousands costs no more than that.
      prepend(events.slice(-FEED_MAX).map((e) => entry(changedAt(e), `#${e.seq}`, describe(e), e.type.slice('order.'.length))));
    },
    addNote(text) {
      prepend([entry(new Date().toISOString(), '', text, 'note')]);
    },
    showNumbers(live) {
      numbers.connections.textContent = live.connections === undefined ? '–' : count(live.connections);
      numbers.rate.textContent = live.eventsPerSecond === undefined ? '–' : rateText(live.eventsPerSecond);
      numbers.seq.textContent = live.seq === undefined ? '–' : count(live.seq);
    },
  };
}

/**
 * One feed line: `#1a2b3c4d Ada: pending → processing`.
 * @param event an applied event
 */
export function describe(event: OrderEvent): string {
  const who = `#${shortId(event.order.id)} ${isolate(event.order.customerName)}`;
  switch (event.type) {
    case 'order.created':
      return `${who}: new, ${event.order.status}`;
    case 'order.updated':
      return `${who}: ${event.previousStatus} → ${event.order.status}`;
    case 'order.deleted':
      return `${who}: deleted`;
  }
}

/** When the change happened: a deleted order carries its last state, so its deletion is "now". */
function changedAt(event: OrderEvent): string {
  return event.type === 'order.deleted' ? new Date().toISOString() : event.order.updatedAt;
}

function rateText(perSecond: number): string {
  return perSecond < 10 ? perSecond.toLocaleString(undefined, { maximumFractionDigits: 1 }) : count(Math.round(perSecond));
}
