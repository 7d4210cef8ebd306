/**
 * @module client/ui/cards
 * The order cards: one `<li>` per order, reused while its version is unchanged,
 * and the move buttons shared with the detail dialog. A card re-drawn while it
 * holds the keyboard focus hands the focus to its next move (or to itself), so
 * pressing a move button never drops the focus to `<body>`. "Cancel order"
 * sends nothing by itself: it asks first, in place of the buttons.
 */

import { detailHash } from '../url-state.ts';
import { ALLOWED_TRANSITIONS, NEXT_STATUS, type Order, type OrderStatus } from '../../src/protocol.ts';
import { isolate, orderLineTexts, money, setBadge, shortId, shownName, textElement, timeElement } from './dom.ts';

const CARD_FLASH_CLASS = 'flash';

/** Human labels for the move buttons. */
const MOVE_LABELS: Readonly<Record<OrderStatus, string>> = {
  pending: 'Back to pending',
  processing: 'Start processing',
  shipped: 'Mark shipped',
  delivered: 'Mark delivered',
  cancelled: 'Cancel order',
};

/** What the buttons that make or ask for a change carry in `data-action`. */
const MOVE_ACTION = 'move';
const ASK_CANCEL_ACTION = 'ask-cancel';
/** The buttons that wait while a move is in flight or the page is not live. */
const MOVE_BUTTONS = `button[data-action="${MOVE_ACTION}"], button[data-action="${ASK_CANCEL_ACTION}"]`;

/** The cards of the board. */
export interface CardList {
  /**
   * Show `orders` in this order; flash `highlight`; moves work only while `live`.
   * @param orders the cards to show
   * @param highlight ids that just changed
   * @param live whether the page is in sync with the server
   */
  render(orders: readonly Order[], highlight: readonly string[], live: boolean): void;
}

/**
 * Build the card list over `list`, cloning cards from `template`.
 * @param doc the document
 * @param list the `<ul>` of cards
 * @param template the card `<template>`
 * @param pendingMoves ids whose move request is in flight (their buttons wait)
 */
export function createCardList(doc: Document, list: HTMLUListElement, template: HTMLTemplateElement, pendingMoves: ReadonlySet<string>): CardList {
  /** Rendered cards by order id, with the version they show. */
  const cache = new Map<string, { element: HTMLLIElement; version: number }>();

  function render(orders: readonly Order[], highlight: readonly string[], live: boolean): void {
    const focused = doc.activeElement;
    const wanted = new Set(orders.map((o) => o.id));
    let lostFocusAt: Element | null | undefined;
    for (const [id, entry] of cache) {
      if (wanted.has(id)) continue;
      if (focused !== null && entry.element.contains(focused)) lostFocusAt = entry.element.nextElementSibling;
      entry.element.remove();
      cache.delete(id);
    }
    let cursor = list.firstElementChild;
    for (const order of orders) {
      let entry = cache.get(order.id);
      if (entry === undefined) {
        entry = { element: template.content.firstElementChild!.cloneNode(true) as HTMLLIElement, version: -1 };
        cache.set(order.id, entry);
      }
      if (entry.version !== order.version) {
        const hadFocus = focused !== null && entry.element.contains(focused);
        fillCard(doc, entry.element, order);
        entry.version = order.version;
        if (hadFocus) focusAfterRedraw(entry.element);
      }
      if (entry.element !== cursor) list.insertBefore(entry.element, cursor);
      else cursor = cursor.nextElementSibling;
    }
    setMovesUsable(list, live, pendingMoves);
    // A focused card that left the view (a filter, a deletion) hands the focus to the card after it.
    if (lostFocusAt !== undefined) ((lostFocusAt?.isConnected ? lostFocusAt : list) as HTMLElement).focus();
    for (const id of highlight) flash(cache.get(id)?.element);
  }

  return { render };
}

/**
 * Move buttons for `order`: its next step and, while allowed, cancel.
 * @param doc the document
 * @param order the order
 */
export function moveButtons(doc: Document, order: Order): HTMLButtonElement[] {
  const next = NEXT_STATUS[order.status];
  const moves: OrderStatus[] = [];
  if (next !== undefined) moves.push(next);
  if (ALLOWED_TRANSITIONS[order.status].includes('cancelled')) moves.push('cancelled');
  return moves.map((status) => {
    const button = textElement(doc, 'button', MOVE_LABELS[status], status === 'cancelled' ? 'danger' : 'primary');
    button.type = 'button';
    // Cancelling is for good: its button only asks (see askToCancel); the confirmation sends.
    button.dataset.action = status === 'cancelled' ? ASK_CANCEL_ACTION : MOVE_ACTION;
    button.dataset.status = status;
    button.setAttribute('aria-label', `${MOVE_LABELS[status]}: order ${shortId(order.id)} for ${isolate(order.customerName)}`);
    return button;
  });
}

/**
 * Replace the move buttons of `holder` (a card or the detail body) with a
 * question: "Yes, cancel order" (which sends) or "Keep order" (which takes
 * the question back). The focus goes to "Keep order", the choice that loses
 * nothing; Escape keeps the order too. A redraw of the order (it changed
 * meanwhile) drops the question.
 * @param doc the document
 * @param holder the element with `data-order-id`
 */
export function askToCancel(doc: Document, holder: HTMLElement): void {
  const actions = holder.querySelector<HTMLElement>('.actions');
  const ask = actions?.querySelector<HTMLButtonElement>(`button[data-action="${ASK_CANCEL_ACTION}"]`);
  if (actions === null || actions === undefined || ask === null || ask === undefined || actions.querySelector('.confirm') !== null) return;
  const label = ask.getAttribute('aria-label') ?? '';
  const which = label.replace(/^Cancel order: /, '');
  const group = doc.createElement('div');
  group.className = 'confirm';
  group.setAttribute('role', 'group');
  group.setAttribute('aria-label', `Confirm: cancel ${which}?`);
  const yes = textElement(doc, 'button', 'Yes, cancel order', 'danger');
  yes.type = 'button';
  yes.dataset.action = MOVE_ACTION;
  yes.dataset.status = 'cancelled';
  yes.setAttribute('aria-label', `Yes, cancel ${which}`);
  const keep = textElement(doc, 'button', 'Keep order', 'secondary');
  keep.type = 'button';
  keep.dataset.action = 'keep-order';
  group.append(textElement(doc, 'span', 'Cancel this order for good?', 'confirm-text'), yes, keep);
  group.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    // Escape answers the question; it must not also close the dialog around it.
    event.preventDefault();
    event.stopPropagation();
    keepOrder(holder);
  });
  for (const button of actions.querySelectorAll<HTMLElement>(':scope > button')) button.hidden = true;
  if (ask.getAttribute('aria-disabled') === 'true') yes.setAttribute('aria-disabled', 'true');
  actions.append(group);
  keep.focus();
}

/**
 * Take the question of {@link askToCancel} back: the buttons return, the focus to "Cancel order".
 * @param holder the element with `data-order-id`
 */
export function keepOrder(holder: HTMLElement): void {
  const actions = holder.querySelector<HTMLElement>('.actions');
  if (actions === null) return;
  actions.querySelector('.confirm')?.remove();
  for (const button of actions.querySelectorAll<HTMLElement>(':scope > button')) button.hidden = false;
  actions.querySelector<HTMLButtonElement>(`button[data-action="${ASK_CANCEL_ACTION}"]`)?.focus();
}

/**
 * Mark the move buttons under `root` usable or not. `aria-disabled` rather than
 * `disabled`, so a focused button keeps the focus while its move is in flight.
 * @param root a card list or the detail dialog
 * @param live whether the page is in sync with the server
 * @param pendingMoves ids whose move request is in flight
 */
export function setMovesUsable(root: ParentNode, live: boolean, pendingMoves: ReadonlySet<string>): void {
  for (const holder of root.querySelectorAll<HTMLElement>('[data-order-id]')) {
    const usable = live && !pendingMoves.has(holder.dataset.orderId ?? '');
    for (const button of holder.querySelectorAll<HTMLButtonElement>(MOVE_BUTTONS)) {
      if (usable) button.removeAttribute('aria-disabled');
      else button.setAttribute('aria-disabled', 'true');
    }
  }
}

/**
 * After a redraw removed the focused button: focus the first move left, else the holder itself.
 * @param holder a card or the detail body (focusable with tabindex=-1)
 */
export function focusAfterRedraw(holder: HTMLElement): void {
  (holder.querySelector<HTMLElement>(MOVE_BUTTONS) ?? holder).focus();
}

function fillCard(doc: Document, card: HTMLElement, order: Order): void {
  card.dataset.orderId = order.id;
  card.dataset.version = String(order.version);
  card.dataset.status = order.status;
  const link = card.querySelector<HTMLAnchorElement>('.order-id')!;
  link.href = detailHash(order.id);
  link.textContent = `#${shortId(order.id)}`;
  link.title = order.id;
  link.setAttribute('aria-label', `Order ${shortId(order.id)} for ${isolate(order.customerName)}, details`);
  card.querySelector('.copy')!.setAttribute('aria-label', `Copy id of order ${shortId(order.id)}`);
  setBadge(card.querySelector<HTMLElement>('.badge')!, order.status);
  card.querySelector('.customer')!.textContent = shownName(order.customerName); // its element has dir="auto"
  card.querySelector('.lines')!.replaceChildren(...orderLineTexts(order).map((text) => textElement(doc, 'li', text)));
  const total = card.querySelector<HTMLElement>('.total')!;
  total.hidden = order.total === undefined;
  total.textContent = order.total === undefined ? '' : `Total ${money(order.total)}`;
  const times = card.querySelector<HTMLElement>('.times')!;
  times.replaceChildren('Created ', timeElement(doc, order.createdAt));
  if (order.updatedAt !== order.createdAt) times.append(' · updated ', timeElement(doc, order.updatedAt, 'time'));
  card.querySelector('.actions')!.replaceChildren(...moveButtons(doc, order));
}

function flash(card: HTMLElement | undefined): void {
  if (card === undefined) return;
  card.classList.remove(CARD_FLASH_CLASS);
  void card.offsetWidth; // restart the animation
  card.classList.add(CARD_FLASH_CLASS);
}
