/**
 * @module client/ui/tracking
 * The customer's page at `/track/TOKEN` (`client/track.html`): where their
 * order is on its way from "received" to "delivered" as a stepper, what is in
 * it, and when it last changed, kept live. No board, no buttons, no ids beyond
 * a short reference, and a plain sentence when the link leads nowhere. Once
 * the order is delivered or cancelled the page says it will not change any
 * more. The shop's name (`SHOP_NAME`) is written into the page by the server.
 */

import type { ConnectionStatus } from '../connection.ts';
import type { Order, OrderStatus } from '../../src/protocol.ts';
import { createConnectionIndicator } from './connection.ts';
import { isolate, orderLineTexts, money, requireElement, shortId, textElement, textNodes, timeElement } from './dom.ts';

/** What the tracking page shows. */
export type TrackingModel =
  | { readonly kind: 'loading' }
  /** The shop's server cannot be reached; the page tries again at `retryAt`. */
  | { readonly kind: 'unreachable'; readonly retryAt: number }
  /** The link's token opens no order (mistyped, or from before a server restart). */
  | { readonly kind: 'not-found' }
  /** The order was there and is no longer (deleted, or the server's data was reset). */
  | { readonly kind: 'gone' }
  | { readonly kind: 'order'; readonly order: Order };

/** The steps of a normal order, in order. */
const STEPS: readonly { status: Exclude<OrderStatus, 'cancelled'>; label: string; lead: string }[] = [
  { status: 'pending', label: 'Order received', lead: 'we have your order and will start on it soon.' },
  { status: 'processing', label: 'Being prepared', lead: 'we are preparing your order.' },
  { status: 'shipped', label: 'On its way', lead: 'your order is on its way.' },
  { status: 'delivered', label: 'Delivered', lead: 'your order has been delivered. Enjoy!' },
];

/** What the page says for each state without an order. */
const PROBLEMS = {
  'not-found': {
    title: 'This link does not lead to an order',
    text: 'Check that you opened the whole link from your message. Links also stop working when the shop restarts its system; ask the shop for a new one.',
  },
  gone: {
    title: 'This order is no longer available',
    text: 'The shop removed it, or restarted its system since the link was made. Ask the shop for a new link if you still need it.',
  },
} as const;

/** What the line under the order says while it may still change, and once it will not. */
const HINTS = {
  open: 'This page updates by itself: keep it open to follow your order.',
  delivered: 'Your order has arrived, so this page will not change any more. Thank you!',
  cancelled: 'This order is closed, so this page will not change any more.',
} as const;

/** The tracking page's UI. */
export interface TrackingUi {
  render(model: TrackingModel): void;
  setConnection(status: ConnectionStatus): void;
}

/**
 * Build the UI over `client/track.html`.
 * @param doc the document
 * @param onRetry called when the user asks to reconnect now
 */
export function createTrackingUi(doc: Document, onRetry: () => void): TrackingUi {
  const el = {
    connection: requireElement<HTMLElement>(doc, '#connection'),
    order: requireElement<HTMLElement>(doc, '#track-order'),
    lead: requireElement<HTMLElement>(doc, '#track-lead'),
    stepper: requireElement<HTMLOListElement>(doc, '#stepper'),
    cancelled: requireElement<HTMLElement>(doc, '#track-cancelled'),
    lines: requireElement<HTMLElement>(doc, '#track-lines'),
    total: requireElement<HTMLElement>(doc, '#track-total'),
    updated: requireElement<HTMLElement>(doc, '#track-updated'),
    hint: requireElement<HTMLElement>(doc, '#track-hint'),
    brand: requireElement<HTMLElement>(doc, '#track-brand'),
    status: requireElement<HTMLElement>(doc, '#track-status'),
    problem: requireElement<HTMLElement>(doc, '#track-problem'),
    problemTitle: requireElement<HTMLElement>(doc, '#track-problem-title'),
    problemText: requireElement<HTMLElement>(doc, '#track-problem-text'),
  };
  const indicator = createConnectionIndicator(doc, onRetry);
  /** The shop's name, or "Order tracking" when it has none: the end of every title. */
  const brand = el.brand.textContent?.trim() || 'Order tracking';
  let countdown: ReturnType<typeof setInterval> | undefined;

  function render(model: TrackingModel): void {
    clearInterval(countdown);
    el.order.hidden = model.kind !== 'order';
    el.problem.hidden = model.kind !== 'not-found' && model.kind !== 'gone';
    // Nothing will connect for a link that leads nowhere: no "Connecting…" then.
    el.connection.hidden = model.kind === 'not-found' || model.kind === 'gone';
    switch (model.kind) {
      case 'loading':
        el.status.textContent = 'Looking up your order…';
        break;
      case 'unreachable': {
        const tick = (): void => {
          const seconds = Math.max(0, Math.ceil((model.retryAt - Date.now()) / 1000));
          el.status.textContent = `We cannot reach the shop right now. Trying again in ${seconds}s.`;
        };
        tick();
        countdown = setInterval(tick, 250);
        break;
      }
      case 'not-found':
      case 'gone':
        el.status.textContent = '';
        el.problemTitle.textContent = PROBLEMS[model.kind].title;
        el.problemText.textContent = PROBLEMS[model.kind].text;
        doc.title = `${PROBLEMS[model.kind].title} · ${brand}`;
        break;
      case 'order':
        el.status.textContent = '';
        showOrder(model.order);
        break;
    }
  }

  function showOrder(order: Order): void {
    const step = STEPS.find((s) => s.status === order.status);
    const cancelled = order.status === 'cancelled';
    doc.title = `Order ${shortId(order.id)}: ${cancelled ? 'cancelled' : step?.label ?? order.status} · ${brand}`;
    el.hint.textContent = order.status === 'delivered' ? HINTS.delivered : cancelled ? HINTS.cancelled : HINTS.open;
    const lead = cancelled
      ? `Hi ${isolate(order.customerName)}, your order #${shortId(order.id)} was cancelled.`
      : `Hi ${isolate(order.customerName)}, ${step?.lead ?? ''}`;
    el.lead.replaceChildren(...textNodes(doc, lead));
    el.order.dataset.status = order.status;
    el.stepper.replaceChildren(...stepItems(order));
    el.cancelled.hidden = !cancelled;
    if (cancelled) {
      const at = order.history.findLast((h) => h.status === 'cancelled')?.at ?? order.updatedAt;
      el.cancelled.replaceChildren('Cancelled on ', timeElement(doc, at), '. Nothing more will happen with this order; contact the shop if this is unexpected.');
    }
    el.lines.replaceChildren(...orderLineTexts(order).map((text) => textElement(doc, 'li', text)));
    el.total.hidden = order.total === undefined;
    el.total.textContent = order.total === undefined ? '' : `Total ${money(order.total)}`;
    el.updated.replaceChildren(`Order #${shortId(order.id)} · last update `, timeElement(doc, order.updatedAt));
  }

  function stepItems(order: Order): HTMLLIElement[] {
    const reachedIndex = Math.max(...order.history.map((h) => STEPS.findIndex((s) => s.status === h.status)));
    const currentIndex = STEPS.findIndex((s) => s.status === order.status);
    return STEPS.map((step, i) => {
      const li = doc.createElement('li');
      const state = i === currentIndex ? 'current' : i <= reachedIndex ? 'done' : order.status === 'cancelled' ? 'skipped' : 'upcoming';
      li.className = `step step-${state}`;
      li.dataset.step = step.status;
      if (state === 'current') li.setAttribute('aria-current', 'step');
      const at = order.history.find((h) => h.status === step.status)?.at;
      // The last step, once reached, is done rather than "now": nothing follows it.
      const stateText = state === 'current' && order.status === 'delivered' ? 'done' : { current: 'now', done: 'done', upcoming: 'next', skipped: 'will not happen' }[state];
      li.append(textElement(doc, 'span', '', 'step-dot'), textElement(doc, 'span', step.label, 'step-label'));
      li.append(textElement(doc, 'span', `(${stateText})`, 'visually-hidden'));
      if (at !== undefined) li.append(timeElement(doc, at));
      return li;
    });
  }

  return { render, setConnection: (status) => indicator.show(status) };
}
