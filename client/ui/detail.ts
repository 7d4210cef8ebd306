/**
 * @module client/ui/detail
 * The order detail dialog (`#/orders/ID`): facts, items, the status timeline
 * and the moves, following live changes, and for operators the customer
 * link with its QR code. When the server's data was reset under an open
 * dialog, it says so and offers no moves; a link to an order that is not
 * there says it was not found.
 */

import type { Order } from '../../src/protocol.ts';
import type { OrderEmail } from '../api.ts';
import { focusAfterRedraw, moveButtons, setMovesUsable } from './cards.ts';
import { orderLineTexts, money, requireElement, setBadge, shortId, shownName, textElement, timeElement } from './dom.ts';
import { shareBlock } from './share.ts';

/** What the detail dialog shows. */
export type DetailModel =
  | { readonly kind: 'closed' }
  | { readonly kind: 'loading'; readonly id: string }
  /** `id` is what the link said: a whole id (`deleted`, `reset`) or anything else (`unknown`). */
  | { readonly kind: 'missing'; readonly id: string; readonly reason: 'deleted' | 'reset' | 'unknown' }
  /** `customerLink` and `emails` only for pages that may see them (not viewers), once known. */
  | { readonly kind: 'order'; readonly order: Order; readonly customerLink?: string; readonly emails?: readonly OrderEmail[] };

/** Longest part of an unknown link shown back in the "not found" message. */
const SHOWN_LINK_MAX = 40;

/** The dialog. */
export interface DetailDialog {
  /**
   * Show `detail` (opening or closing the dialog as needed).
   * @param detail what to show
   * @param live whether moves may be made
   */
  render(detail: DetailModel, live: boolean): void;
}

/**
 * Build the dialog over `#detail`.
 * @param doc the document
 * @param pendingMoves ids whose move request is in flight
 * @param onClose called when the user closed it
 */
export function createDetailDialog(doc: Document, pendingMoves: ReadonlySet<string>, onClose: () => void): DetailDialog {
  const dialog = requireElement<HTMLDialogElement>(doc, '#detail');
  const title = requireElement<HTMLElement>(dialog, '#detail-title');
  const body = requireElement<HTMLElement>(dialog, '#detail-body');
  requireElement<HTMLButtonElement>(dialog, '#detail-close').addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', onClose);
  /** What is drawn, so a render that changes nothing touches nothing. */
  let shown: DetailModel = { kind: 'closed' };

  function render(detail: DetailModel, live: boolean): void {
    if (detail.kind === 'closed') {
      shown = detail;
      if (dialog.open) dialog.close();
      return;
    }
    if (!sameDetail(detail, shown)) {
      const hadFocus = dialog.contains(doc.activeElement) && body.contains(doc.activeElement);
      shown = detail;
      draw(detail);
      const holder = body.firstElementChild as HTMLElement | null;
      if (hadFocus && holder !== null) focusAfterRedraw(holder);
    }
    setMovesUsable(body, live, pendingMoves);
    if (!dialog.open) dialog.showModal();
  }

  function draw(detail: Exclude<DetailModel, { kind: 'closed' }>): void {
    if (detail.kind === 'order') {
      title.textContent = `Order ${shortId(detail.order.id)}`;
      body.replaceChildren(orderBody(doc, detail.order, detail.customerLink, detail.emails));
      return;
    }
    title.textContent = detail.kind === 'missing' && detail.reason === 'unknown' ? 'Order not found' : `Order ${shortId(detail.id)}`;
    const text =
      detail.kind === 'loading'
        ? 'Loading…'
        : detail.reason === 'reset'
          ? 'This order is gone: the server restarted and its data was reset.'
          : detail.reason === 'unknown'
            ? `No order was found for “${detail.id.slice(0, SHOWN_LINK_MAX)}”. An order link ends in the order's whole id, or in 8 or more of its last digits.`
            : 'This order was not found: it does not exist, or it was deleted.';
    const p = textElement(doc, 'p', text, detail.kind === 'missing' ? 'detail-missing' : undefined);
    p.tabIndex = -1;
    body.replaceChildren(p);
  }

  return { render };
}

function sameDetail(a: DetailModel, b: DetailModel): boolean {
  if (a.kind === 'order' && b.kind === 'order') return a.order.id === b.order.id && a.order.version === b.order.version && a.customerLink === b.customerLink && a.emails === b.emails;
  return a === b;
}

function orderBody(doc: Document, order: Order, customerLink: string | undefined, emails: readonly OrderEmail[] | undefined): HTMLElement {
  const holder = doc.createElement('div');
  holder.dataset.orderId = order.id;
  holder.dataset.version = String(order.version);
  holder.tabIndex = -1;
  const badge = doc.createElement('span');
  setBadge(badge, order.status);
  const facts = doc.createElement('dl');
  const fact = (term: string, value: string | Node): void => {
    const dd = doc.createElement('dd');
    dd.append(value);
    facts.append(textElement(doc, 'dt', term), dd);
  };
  fact('Id', order.id);
  fact('Customer', textElement(doc, 'bdi', shownName(order.customerName)));
  if (order.customerEmail !== undefined) fact('Email', textElement(doc, 'bdi', shownName(order.customerEmail)));
  fact('Status', badge);
  if (order.total !== undefined) fact('Total', money(order.total));
  const lines = doc.createElement('ul');
  lines.className = 'lines';
  lines.append(...orderLineTexts(order).map((text) => textElement(doc, 'li', text)));
  const timeline = doc.createElement('ol');
  timeline.className = 'timeline';
  timeline.setAttribute('aria-label', 'Status history');
  for (const entry of order.history) {
    const li = doc.createElement('li');
    li.className = `status-${entry.status}`;
    li.append(textElement(doc, 'strong', entry.status), ' ', timeElement(doc, entry.at));
    timeline.append(li);
  }
  const actions = doc.createElement('div');
  actions.className = 'actions';
  actions.append(...moveButtons(doc, order));
  holder.append(facts);
  if (customerLink !== undefined) holder.append(textElement(doc, 'h3', 'Customer link'), shareBlock(doc, order, customerLink));
  holder.append(textElement(doc, 'h3', 'Items'), lines, textElement(doc, 'h3', 'Timeline'), timeline);
  if (emails !== undefined && emails.length > 0) holder.append(textElement(doc, 'h3', 'Emails'), emailList(doc, emails));
  holder.append(actions);
  return holder;
}

/** "emailed: shipped, 10:42" or "failed: shipped, 550 mailbox unavailable", one line per email. */
function emailList(doc: Document, emails: readonly OrderEmail[]): HTMLElement {
  const list = doc.createElement('ul');
  list.className = 'emails';
  for (const email of emails) {
    const li = doc.createElement('li');
    if (email.outcome === 'sent') li.append(`emailed: ${email.status}, `, timeElement(doc, email.at, 'time'));
    else li.append(`failed: ${email.status}, ${email.reply ?? 'no reply'}`);
    li.dataset.outcome = email.outcome;
    list.append(li);
  }
  return list;
}
