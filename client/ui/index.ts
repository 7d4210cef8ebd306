/**
 * @module client/ui
 * The board page's UI: the only code besides the tracking page's UI that touches
 * the DOM. Each part of the page lives in a module of its own in this folder;
 * this one builds them over the document (a missing element throws at
 * start-up), reports what the user did through `onAction`, and brings the DOM
 * up to date in `render(model)`.
 */

import type { NewOrderBody } from '../api.ts';
import type { ConnectionStatus } from '../connection.ts';
import { isOrderStatus, type Order, type OrderStatus } from '../../src/protocol.ts';
import { createActivityPanel, type ActivityPanel } from './activity.ts';
import { createAdminPanel, type AdminPanel } from './admin.ts';
import { createWebhooksPanel } from './webhooks.ts';
import { createBoardChromeUi, type BoardAction, type BoardChrome } from './board.ts';
import { askToCancel, createCardList, keepOrder, setMovesUsable } from './cards.ts';
import { createConnectionIndicator } from './connection.ts';
import { createDetailDialog, type DetailModel } from './detail.ts';
import { requireElement, shortId } from './dom.ts';
import { createOrderForm, type OrderForm } from './form.ts';
import { createProductsPanel, type ProductsPanel } from './products.ts';
import { createNotices, type Notices } from './notices.ts';
import { createPresenceLine, type PresenceLine } from './presence.ts';
import { createSelection, type Selection } from './selection.ts';
import { copyText, createCreatedNotice, showCopied, type CreatedNotice } from './share.ts';
import { createSignIn, type SignIn } from './sign-in.ts';
import { detailHash } from '../url-state.ts';

/** Re-exported for the composition root, which builds detail models. */
export type { DetailModel } from './detail.ts';
/** Re-exported for the composition root's messages. */
export { shortId } from './dom.ts';

/** Everything `render` needs, computed by the page from its state. */
export interface BoardModel extends BoardChrome {
  /** The cards to show, in order. */
  readonly cards: readonly Order[];
  /** Ids to flash because they just changed. */
  readonly highlight: readonly string[];
  readonly detail: DetailModel;
}

/** What the user did. */
export type UiAction =
  | BoardAction
  | { readonly type: 'create'; readonly body: NewOrderBody; readonly rowOfItem: readonly number[] }
  | { readonly type: 'move'; readonly id: string; readonly status: OrderStatus; readonly version: number }
  | { readonly type: 'bulkMove'; readonly orders: readonly Order[]; readonly status: OrderStatus }
  | { readonly type: 'retry' }
  | { readonly type: 'closeDetail' }
  | { readonly type: 'login'; readonly token: string }
  | { readonly type: 'logout' };

/** The board page's UI. */
export interface BoardUi {
  render(model: BoardModel): void;
  setConnection(status: ConnectionStatus): void;
  onAction(listener: (action: UiAction) => void): void;
  /** A move on this order finished (either way): its buttons work again. */
  settleMove(id: string): void;
  readonly form: Pick<OrderForm, 'showProblem' | 'clearNetworkProblem' | 'reset'>;
  readonly notices: Notices;
  readonly activity: ActivityPanel;
  /** The catalog with live stock, and the form's product choices. */
  readonly products: ProductsPanel;
  readonly signIn: SignIn;
  /** Selected cards and the bar that moves them. */
  readonly selection: Pick<Selection, 'showResult'>;
  /** The detail's "watching" line. */
  readonly presence: PresenceLine;
  readonly admin: AdminPanel;
  /** The notice under the form after one's own create, with the customer link. */
  readonly created: CreatedNotice;
}

/**
 * Build the UI over the page's document.
 * @param doc the document holding the elements of index.html
 */
export function createBoardUi(doc: Document): BoardUi {
  let emit: (action: UiAction) => void = () => undefined;
  const pendingMoves = new Set<string>();
  let live = false;

  const board = createBoardChromeUi(doc, (action) => emit(action));
  const cardList = requireElement<HTMLUListElement>(doc, '#orders');
  const cards = createCardList(doc, cardList, requireElement<HTMLTemplateElement>(doc, '#card-template'), pendingMoves);
  const detail = createDetailDialog(doc, pendingMoves, () => emit({ type: 'closeDetail' }));
  const detailBody = requireElement<HTMLElement>(doc, '#detail-body');
  const form = createOrderForm(doc, (body, rowOfItem) => emit({ type: 'create', body, rowOfItem }));
  const notices = createNotices(doc);
  const indicator = createConnectionIndicator(doc, () => emit({ type: 'retry' }));
  const signIn = createSignIn(doc, (token) => emit({ type: 'login', token }), () => emit({ type: 'logout' }));
  const activity = createActivityPanel(doc);
  const products = createProductsPanel(doc);
  const selection = createSelection(doc, cardList, (orders, status) => emit({ type: 'bulkMove', orders, status }));
  const presence = createPresenceLine(doc);
  const adminNumbers = createAdminPanel(doc);
  const webhooks = createWebhooksPanel(doc);
  // The Webhooks panel lives in the admin panel: shown, and refreshed, when it is.
  const admin: AdminPanel = {
    show(reading) {
      adminNumbers.show(reading);
      webhooks.setShown(reading !== undefined && reading.stats.caller === 'admin');
    },
  };
  const created = createCreatedNotice(doc, detailHash);
  const createdBox = requireElement<HTMLElement>(doc, '#created');

  // One listener for every card, present and future (event delegation).
  const onCardClick = (event: Event): void => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-action]');
    const holder = button?.closest<HTMLElement>('[data-order-id]');
    const id = holder?.dataset.orderId;
    if (button === null || button === undefined || holder === undefined || holder === null || id === undefined) return;
    switch (button.dataset.action) {
      case 'copy':
        return copyText(id, (copied) => notices.toast(copied ? `Copied the id of order ${shortId(id)}` : id));
      case 'copy-link': {
        const link = button.dataset.link ?? '';
        return copyText(link, (copied) => {
          // Said on the button itself: a toast would cover the activity feed for a change of one's own.
          if (copied) showCopied(button);
          else notices.toast(`Copy this link by hand: ${link}`, 'error');
          notices.announce(copied ? `Copied the customer link of order ${shortId(id)}` : 'The browser did not let the page copy the link');
        });
      }
      case 'ask-cancel':
        if (button.getAttribute('aria-disabled') !== 'true') askToCancel(doc, holder);
        return;
      case 'keep-order':
        return keepOrder(holder);
    }
    const status = button.dataset.status;
    if (button.dataset.action !== 'move' || !isOrderStatus(status) || button.getAttribute('aria-disabled') === 'true') return;
    pendingMoves.add(id);
    refreshMoves();
    emit({ type: 'move', id, status, version: Number(holder.dataset.version) });
  };
  cardList.addEventListener('click', onCardClick);
  detailBody.addEventListener('click', onCardClick);
  createdBox.addEventListener('click', onCardClick);

  function refreshMoves(): void {
    setMovesUsable(cardList, live, pendingMoves);
    setMovesUsable(detailBody, live, pendingMoves);
  }

  return {
    render(model) {
      live = model.live;
      board.render(model);
      cards.render(model.cards, model.highlight, model.live);
      selection.render(model.cards, model.live);
      detail.render(model.detail, model.live);
    },
    setConnection: (status) => indicator.show(status),
    onAction: (listener) => {
      emit = listener;
    },
    settleMove(id) {
      pendingMoves.delete(id);
      refreshMoves();
    },
    form,
    notices,
    activity,
    products,
    signIn,
    selection,
    presence,
    admin,
    created,
  };
}
