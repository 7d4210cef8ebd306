/**
 * @module client/ui/selection
 * Selecting cards (a checkbox on each) and moving them all at once: a bar
 * that says how many are selected, offers each move at least one of them
 * may make, and reports the outcome per order. Native checkboxes and
 * buttons, so the keyboard and screen readers work as everywhere.
 */

import { ALLOWED_TRANSITIONS, ORDER_STATUSES, type Order, type OrderStatus } from '../../src/protocol.ts';
import { count, isolate, requireElement, shortId, textElement } from './dom.ts';

/** The bar's move buttons, one per status an order can be moved to. */
const BULK_LABELS: Readonly<Partial<Record<OrderStatus, string>>> = {
  processing: 'Start processing',
  shipped: 'Mark shipped',
  delivered: 'Mark delivered',
  cancelled: 'Cancel',
};

/** Failed orders named in a result, at most; the rest are counted. */
const NAMED_FAILURES_MAX = 5;

/** One order's outcome, as the bar reports it. */
export interface BulkOutcomeView {
  readonly id: string;
  readonly status: number;
  readonly message?: string;
}

/** The selection and its bar. */
export interface Selection {
  /**
   * Keep the checkboxes in step with the cards shown (a card that left the view is no longer selected).
   * @param cards the cards shown
   * @param live whether moves may be made
   */
  render(cards: readonly Order[], live: boolean): void;
  /**
   * Report a bulk move's outcome and unselect the orders that moved.
   * @param status where they were moved
   * @param outcomes one per order, or a message when the whole request failed
   */
  showResult(status: OrderStatus, outcomes: readonly BulkOutcomeView[] | string): void;
}

/**
 * Build the selection over the card list and `#bulk-bar`.
 * @param doc the document
 * @param list the card list
 * @param onMove called with the selected orders (and the versions shown) and the status chosen
 */
export function createSelection(doc: Document, list: HTMLElement, onMove: (orders: readonly Order[], status: OrderStatus) => void): Selection {
  const bar = requireElement<HTMLElement>(doc, '#bulk-bar');
  const countText = requireElement<HTMLElement>(bar, '#bulk-count');
  const moves = requireElement<HTMLElement>(bar, '#bulk-moves');
  const result = requireElement<HTMLElement>(doc, '#bulk-result');
  const selected = new Map<string, Order>();
  let shown: readonly Order[] = [];
  let live = false;
  let moving = false;

  const buttons = new Map<OrderStatus, HTMLButtonElement>();
  for (const status of ORDER_STATUSES) {
    const label = BULK_LABELS[status];
    if (label === undefined) continue;
    const button = textElement(doc, 'button', label, status === 'cancelled' ? 'danger' : 'primary');
    button.type = 'button';
    button.dataset.bulkStatus = status;
    buttons.set(status, button);
    moves.append(button);
  }
  const selectAll = requireElement<HTMLButtonElement>(bar, '#bulk-select-all');
  const clear = requireElement<HTMLButtonElement>(bar, '#bulk-clear');

  list.addEventListener('change', (event) => {
    const box = event.target as HTMLInputElement;
    if (!box.classList.contains('select-card')) return;
    const id = box.closest<HTMLElement>('[data-order-id]')?.dataset.orderId;
    const order = shown.find((o) => o.id === id);
    if (order === undefined) return;
    if (box.checked) selected.set(order.id, order);
    else selected.delete(order.id);
    update();
  });
  moves.addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-bulk-status]');
    const status = button?.dataset.bulkStatus as OrderStatus | undefined;
    if (button == null || status === undefined || button.getAttribute('aria-disabled') === 'true') return;
    const movable = [...selected.values()].filter((o) => ALLOWED_TRANSITIONS[o.status].includes(status));
    if (movable.length === 0) return;
    moving = true;
    result.textContent = `Moving ${count(movable.length)} ${plural(movable.length)}…`;
    update();
    onMove(movable, status);
  });
  selectAll.addEventListener('click', () => {
    for (const order of shown) selected.set(order.id, order);
    update();
  });
  clear.addEventListener('click', () => {
    selected.clear();
    result.textContent = '';
    update();
  });

  /** Checkboxes, the count and which moves are usable, from `selected`. */
  function update(): void {
    for (const card of list.querySelectorAll<HTMLElement>('[data-order-id]')) {
      const box = card.querySelector<HTMLInputElement>('input.select-card');
      if (box === null) continue;
      const id = card.dataset.orderId ?? '';
      box.checked = selected.has(id);
      const order = shown.find((o) => o.id === id);
      const label = `Select order ${shortId(id)}${order === undefined ? '' : ` for ${isolate(order.customerName)}`}`;
      if (box.getAttribute('aria-label') !== label) box.setAttribute('aria-label', label);
    }
    const n = selected.size;
    bar.hidden = n === 0 && result.textContent === '';
    countText.textContent = n === 0 ? 'No orders selected' : `${count(n)} ${plural(n)} selected`;
    for (const [status, button] of buttons) {
      const able = [...selected.values()].filter((o) => ALLOWED_TRANSITIONS[o.status].includes(status)).length;
      button.hidden = able === 0;
      const usable = live && !moving && able > 0;
      if (usable) button.removeAttribute('aria-disabled');
      else button.setAttribute('aria-disabled', 'true');
      button.setAttribute('aria-label', `${BULK_LABELS[status]!}: ${count(able)} of the selected ${plural(able)}`);
    }
    clear.hidden = n === 0;
  }

  return {
    render(cards, isLive) {
      shown = cards;
      live = isLive;
      const byId = new Map(cards.map((o) => [o.id, o]));
      for (const id of [...selected.keys()]) {
        const now = byId.get(id);
        if (now === undefined) selected.delete(id);
        else selected.set(id, now); // the version shown now is the one a move expects
      }
      update();
    },
    showResult(status, outcomes) {
      moving = false;
      if (typeof outcomes === 'string') {
        result.textContent = `Could not move the orders: ${outcomes}`;
        update();
        return;
      }
      const moved = outcomes.filter((o) => o.status === 200);
      for (const o of moved) selected.delete(o.id);
      const failed = outcomes.filter((o) => o.status !== 200);
      let text = `Moved ${count(moved.length)} ${plural(moved.length)} to ${status}.`;
      if (failed.length > 0) {
        const named = failed.slice(0, NAMED_FAILURES_MAX).map((o) => `#${shortId(o.id)} (${whyNot(o)})`);
        const more = failed.length > NAMED_FAILURES_MAX ? ` and ${count(failed.length - NAMED_FAILURES_MAX)} more` : '';
        text += ` ${count(failed.length)} not moved: ${named.join(', ')}${more}.`;
      }
      result.textContent = text;
      update();
    },
  };
}

function plural(n: number): string {
  return n === 1 ? 'order' : 'orders';
}

function whyNot(outcome: BulkOutcomeView): string {
  switch (outcome.status) {
    case 404:
      return 'deleted';
    case 409:
      return 'not a legal move from its status now';
    case 412:
      return 'changed elsewhere meanwhile';
    default:
      return outcome.message ?? `error ${outcome.status}`;
  }
}
