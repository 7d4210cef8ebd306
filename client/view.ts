/**
 * @module client/view
 * The only module that touches the DOM. Elements are looked up once (a
 * missing one throws at start-up), the page reports what the user did through
 * `onAction`, and `render(model)` brings the DOM up to date, reusing the card
 * of every order whose version has not changed. User text is always set with
 * `textContent`, never as HTML.
 */

import type { ApiProblem, NewOrderBody } from './api.ts';
import type { ConnectionStatus } from './connection.ts';
import { detailHash, toggleStatus, type Filter } from './url-state.ts';
import {
  ALLOWED_TRANSITIONS,
  NEXT_STATUS,
  ORDER_STATUSES,
  isOrderStatus,
  type Order,
  type OrderStatus,
  type StatusCounts,
} from '../src/protocol.ts';

/** What the detail dialog shows. */
export type DetailModel =
  | { readonly kind: 'closed' }
  | { readonly kind: 'loading'; readonly id: string }
  | { readonly kind: 'missing'; readonly id: string }
  | { readonly kind: 'order'; readonly order: Order };

/** Everything `render` needs, computed by the page from its state. */
export interface BoardModel {
  readonly synced: boolean;
  /** The cards to show, in order. */
  readonly cards: readonly Order[];
  /** Loaded orders matching the filter and search. */
  readonly matching: number;
  /** Loaded orders in the server view, and how many the server has. */
  readonly loaded: number;
  readonly total: number;
  readonly counts: StatusCounts;
  readonly filter: Filter;
  readonly canShowMore: boolean;
  readonly canLoadOlder: boolean;
  readonly loadingOlder: boolean;
  /** Ids to flash because they just changed. */
  readonly highlight: readonly string[];
  readonly detail: DetailModel;
}

/** What the user did. */
export type ViewAction =
  | { readonly type: 'create'; readonly body: NewOrderBody; readonly rowOfItem: readonly number[] }
  | { readonly type: 'move'; readonly id: string; readonly status: OrderStatus; readonly version: number }
  | { readonly type: 'filter'; readonly filter: Filter }
  | { readonly type: 'showMore' }
  | { readonly type: 'loadOlder' }
  | { readonly type: 'retry' }
  | { readonly type: 'closeDetail' }
  | { readonly type: 'login'; readonly token: string }
  | { readonly type: 'logout' };

/** The page's view. */
export interface View {
  render(model: BoardModel): void;
  setConnection(status: ConnectionStatus): void;
  onAction(listener: (action: ViewAction) => void): void;
  /** Show an API refusal next to the fields it names; `rowOfItem` maps item indexes to form rows. */
  showFormProblem(problem: ApiProblem, rowOfItem: readonly number[]): void;
  resetForm(): void;
  /** A move on this order finished (either way): make its buttons usable again. */
  settleMove(id: string): void;
  toast(text: string, kind?: 'info' | 'error'): void;
  /** Say something to screen readers. */
  announce(text: string): void;
  /** Ask for a token (the board stays hidden until one works); `message` explains why. */
  showLogin(message: string): void;
  /** Signed in (or no sign-in needed): show the board; offer "Sign out" when a token is in use. */
  showBoard(signedIn: boolean): void;
  /** The customer tracking view: one order, no board, no buttons. */
  setTrackingMode(): void;
}

const TOAST_MS = 4000;
const CARD_FLASH_CLASS = 'flash';

/** Human labels for the move buttons. */
const MOVE_LABELS: Readonly<Record<OrderStatus, string>> = {
  pending: 'Back to pending',
  processing: 'Start processing',
  shipped: 'Mark shipped',
  delivered: 'Mark delivered',
  cancelled: 'Cancel',
};

/**
 * Build the view over the page's document.
 * @param doc the document holding the elements of index.html
 */
export function createView(doc: Document): View {
  const $ = <T extends Element>(selector: string): T => {
    const element = doc.querySelector<T>(selector);
    if (element === null) throw new Error(`page is missing ${selector}`);
    return element;
  };
  const el = {
    login: $<HTMLFormElement>('#login'),
    loginError: $<HTMLElement>('#login-error'),
    signOut: $<HTMLButtonElement>('#sign-out'),
    connection: $<HTMLElement>('#connection'),
    connectionText: $<HTMLElement>('#connection-text'),
    retry: $<HTMLButtonElement>('#retry'),
    funnelBar: $<HTMLElement>('#funnel-bar'),
    statusFilter: $<HTMLElement>('#status-filter'),
    form: $<HTMLFormElement>('#create-form'),
    itemRows: $<HTMLElement>('#item-rows'),
    addItem: $<HTMLButtonElement>('#add-item'),
    search: $<HTMLInputElement>('#search'),
    summary: $<HTMLElement>('#summary'),
    cards: $<HTMLUListElement>('#orders'),
    showMore: $<HTMLButtonElement>('#show-more'),
    loadOlder: $<HTMLButtonElement>('#load-older'),
    detail: $<HTMLDialogElement>('#detail'),
    detailTitle: $<HTMLElement>('#detail-title'),
    detailBody: $<HTMLElement>('#detail-body'),
    detailClose: $<HTMLButtonElement>('#detail-close'),
    toasts: $<HTMLElement>('#toasts'),
    announcer: $<HTMLElement>('#announcer'),
    cardTemplate: $<HTMLTemplateElement>('#card-template'),
    itemRowTemplate: $<HTMLTemplateElement>('#item-row-template'),
  };

  let emit: (action: ViewAction) => void = () => undefined;
  let filter: Filter = { statuses: [], q: '' };
  let countdown: ReturnType<typeof setInterval> | undefined;
  /** Rendered cards by order id, with the version they show. */
  const cardCache = new Map<string, { element: HTMLLIElement; version: number }>();
  const filterButtons = new Map<OrderStatus | 'all', HTMLButtonElement>();
  const funnelSegments = new Map<OrderStatus, HTMLElement>();

  buildStatusControls();
  addItemRow();
  bindEvents();

  function buildStatusControls(): void {
    const all = doc.createElement('button');
    all.type = 'button';
    all.className = 'chip';
    all.dataset.status = 'all';
    filterButtons.set('all', all);
    el.statusFilter.append(all);
    for (const status of ORDER_STATUSES) {
      const button = doc.createElement('button');
      button.type = 'button';
      button.className = `chip status-${status}`;
      button.dataset.status = status;
      filterButtons.set(status, button);
      el.statusFilter.append(button);
      const segment = doc.createElement('span');
      segment.className = `segment status-${status}`;
      funnelSegments.set(status, segment);
      el.funnelBar.append(segment);
    }
  }

  function bindEvents(): void {
    el.login.addEventListener('submit', (event) => {
      event.preventDefault();
      const token = String(new FormData(el.login).get('token') ?? '').trim();
      if (token !== '') emit({ type: 'login', token });
    });
    el.signOut.addEventListener('click', () => emit({ type: 'logout' }));
    el.retry.addEventListener('click', () => emit({ type: 'retry' }));
    el.addItem.addEventListener('click', () => addItemRow().querySelector('input')?.focus());
    el.itemRows.addEventListener('click', (event) => {
      const button = (event.target as Element).closest('[data-action="remove-item"]');
      if (button === null) return;
      button.closest('.item-row')?.remove();
      if (el.itemRows.children.length === 0) addItemRow();
    });
    el.form.addEventListener('submit', (event) => {
      event.preventDefault();
      clearFormErrors();
      const { body, rowOfItem } = readForm();
      emit({ type: 'create', body, rowOfItem });
    });
    el.statusFilter.addEventListener('click', (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>('button[data-status]');
      if (button === null) return;
      const status = button.dataset.status;
      emit({ type: 'filter', filter: isOrderStatus(status) ? toggleStatus(filter, status) : { ...filter, statuses: [] } });
    });
    el.search.addEventListener('input', () => emit({ type: 'filter', filter: { ...filter, q: el.search.value.trim() } }));
    // One listener for every card, present and future (event delegation).
    el.cards.addEventListener('click', (event) => onCardClick(event));
    el.detailBody.addEventListener('click', (event) => onCardClick(event));
    el.showMore.addEventListener('click', () => emit({ type: 'showMore' }));
    el.loadOlder.addEventListener('click', () => emit({ type: 'loadOlder' }));
    el.detailClose.addEventListener('click', () => el.detail.close());
    el.detail.addEventListener('close', () => emit({ type: 'closeDetail' }));
  }

  function onCardClick(event: Event): void {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-action]');
    const holder = button?.closest<HTMLElement>('[data-order-id]');
    const id = holder?.dataset.orderId;
    if (button === null || button === undefined || id === undefined) return;
    if (button.dataset.action === 'copy') {
      void navigator.clipboard?.writeText(id).then(
        () => toast('Order id copied'),
        () => toast(id),
      );
      return;
    }
    const status = button.dataset.status;
    const version = Number(holder?.dataset.version);
    if (button.dataset.action === 'move' && isOrderStatus(status)) {
      button.disabled = true;
      emit({ type: 'move', id, status, version });
    }
  }

  // -------------------------------------------------------------------------
  // Form
  // -------------------------------------------------------------------------

  function addItemRow(): HTMLElement {
    const row = el.itemRowTemplate.content.firstElementChild!.cloneNode(true) as HTMLElement;
    el.itemRows.append(row);
    return row;
  }

  function readForm(): { body: NewOrderBody; rowOfItem: number[] } {
    const data = new FormData(el.form);
    const items: NewOrderBody['items'][number][] = [];
    const rowOfItem: number[] = [];
    [...el.itemRows.querySelectorAll<HTMLElement>('.item-row')].forEach((row, rowIndex) => {
      const value = (name: string): string => row.querySelector<HTMLInputElement>(`[name="${name}"]`)!.value.trim();
      const name = value('itemName');
      const quantity = value('itemQuantity');
      const price = value('itemPrice');
      if (name === '' && quantity === '' && price === '') return;
      if (quantity === '' && price === '' && name.includes(',')) {
        for (const part of name.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
          items.push(part);
          rowOfItem.push(rowIndex);
        }
        return;
      }
      items.push({ name, ...(quantity === '' ? {} : { quantity: Number(quantity) }), ...(price === '' ? {} : { price: Number(price) }) });
      rowOfItem.push(rowIndex);
    });
    const email = String(data.get('customerEmail') ?? '').trim();
    return {
      body: { customerName: String(data.get('customerName') ?? ''), ...(email === '' ? {} : { customerEmail: email }), items },
      rowOfItem,
    };
  }

  function clearFormErrors(): void {
    for (const p of el.form.querySelectorAll<HTMLElement>('.field-error')) p.textContent = '';
    for (const input of el.form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  }

  function showFormProblem(problem: ApiProblem, rowOfItem: readonly number[]): void {
    clearFormErrors();
    const rows = [...el.itemRows.querySelectorAll<HTMLElement>('.item-row')];
    let first: HTMLElement | undefined;
    const place = (target: HTMLElement | null | undefined, message: string, input?: Element | null): void => {
      const slot = target ?? el.form.querySelector<HTMLElement>('[data-error-for=""]')!;
      slot.textContent = slot.textContent === '' ? message : `${slot.textContent}; ${message}`;
      input?.setAttribute('aria-invalid', 'true');
      if (first === undefined && input instanceof HTMLElement) first = input;
    };
    if (problem.errors.length === 0) place(undefined, problem.detail);
    for (const error of problem.errors) {
      const item = /^items\[(\d+)\](?:\.(\w+))?$/.exec(error.field);
      if (item !== null) {
        const row = rows[rowOfItem[Number(item[1])] ?? -1];
        const input = row?.querySelector(`[name="${fieldInputName(item[2])}"]`);
        place(row?.querySelector<HTMLElement>('.item-error'), `${item[2] ?? 'item'} ${error.message}`, input);
      } else if (error.field === 'items') {
        place(el.form.querySelector<HTMLElement>('[data-error-for="items"]'), `Items ${error.message}`, rows[0]?.querySelector('input'));
      } else {
        const slot = el.form.querySelector<HTMLElement>(`[data-error-for="${CSS.escape(error.field)}"]`);
        place(slot, slot === null ? `${error.field} ${error.message}` : capitalise(error.message), el.form.querySelector(`[name="${CSS.escape(error.field)}"]`));
      }
    }
    first?.focus();
  }

  function resetForm(): void {
    el.form.reset();
    clearFormErrors();
    el.itemRows.replaceChildren();
    addItemRow();
    el.form.querySelector<HTMLInputElement>('[name="customerName"]')?.focus();
  }

  // -------------------------------------------------------------------------
  // Rendering
  // -------------------------------------------------------------------------

  function render(model: BoardModel): void {
    filter = model.filter;
    renderStatusControls(model.counts, model.filter);
    if (el.search.value.trim() !== model.filter.q) el.search.value = model.filter.q;
    renderCards(model.cards, model.highlight);
    el.summary.textContent = summaryText(model);
    el.cards.setAttribute('aria-busy', String(!model.synced));
    el.showMore.hidden = !model.canShowMore;
    el.loadOlder.hidden = !model.canLoadOlder;
    el.loadOlder.disabled = model.loadingOlder;
    el.loadOlder.textContent = model.loadingOlder ? 'Loading…' : `Load older orders (${(model.total - model.loaded).toLocaleString()} more)`;
    renderDetail(model.detail);
  }

  function renderStatusControls(counts: StatusCounts, current: Filter): void {
    const total = ORDER_STATUSES.reduce((sum, s) => sum + counts[s], 0);
    const all = filterButtons.get('all')!;
    all.textContent = `All ${total.toLocaleString()}`;
    all.setAttribute('aria-pressed', String(current.statuses.length === 0));
    for (const status of ORDER_STATUSES) {
      const button = filterButtons.get(status)!;
      button.textContent = `${status} ${counts[status].toLocaleString()}`;
      button.setAttribute('aria-pressed', String(current.statuses.includes(status)));
      const segment = funnelSegments.get(status)!;
      segment.style.flexGrow = String(counts[status]);
      segment.title = `${status}: ${counts[status]}`;
    }
    el.funnelBar.classList.toggle('empty', total === 0);
  }

  function renderCards(orders: readonly Order[], highlight: readonly string[]): void {
    const wanted = new Set(orders.map((o) => o.id));
    for (const [id, entry] of cardCache) {
      if (!wanted.has(id)) {
        entry.element.remove();
        cardCache.delete(id);
      }
    }
    let cursor = el.cards.firstElementChild;
    for (const order of orders) {
      let entry = cardCache.get(order.id);
      if (entry === undefined) {
        entry = { element: createCard(), version: -1 };
        cardCache.set(order.id, entry);
      }
      if (entry.version !== order.version) {
        fillCard(entry.element, order);
        entry.version = order.version;
      }
      if (entry.element !== cursor) el.cards.insertBefore(entry.element, cursor);
      else cursor = cursor.nextElementSibling;
    }
    for (const id of highlight) flash(cardCache.get(id)?.element);
  }

  function createCard(): HTMLLIElement {
    return el.cardTemplate.content.firstElementChild!.cloneNode(true) as HTMLLIElement;
  }

  function fillCard(card: HTMLElement, order: Order): void {
    card.dataset.orderId = order.id;
    card.dataset.version = String(order.version);
    card.dataset.status = order.status;
    const link = card.querySelector<HTMLAnchorElement>('.order-id')!;
    link.href = detailHash(order.id);
    link.textContent = `#${shortId(order.id)}`;
    link.title = order.id;
    link.setAttribute('aria-label', `Order ${shortId(order.id)} for ${order.customerName}, details`);
    setBadge(card.querySelector<HTMLElement>('.badge')!, order.status);
    card.querySelector('.customer')!.textContent = order.customerName;
    card.querySelector('.lines')!.replaceChildren(...order.items.map((item) => textElement('li', itemText(item))));
    const total = card.querySelector<HTMLElement>('.total')!;
    total.hidden = order.total === undefined;
    total.textContent = order.total === undefined ? '' : `Total ${money(order.total)}`;
    const times = card.querySelector<HTMLElement>('.times')!;
    times.replaceChildren('Created ', timeElement(order.createdAt));
    if (order.updatedAt !== order.createdAt) times.append(' · updated ', timeElement(order.updatedAt));
    card.querySelector('.actions')!.replaceChildren(...moveButtons(order));
  }

  function moveButtons(order: Order): HTMLButtonElement[] {
    const next = NEXT_STATUS[order.status];
    const moves: OrderStatus[] = [];
    if (next !== undefined) moves.push(next);
    if (ALLOWED_TRANSITIONS[order.status].includes('cancelled')) moves.push('cancelled');
    return moves.map((status) => {
      const button = doc.createElement('button');
      button.type = 'button';
      button.className = status === 'cancelled' ? 'danger' : 'primary';
      button.dataset.action = 'move';
      button.dataset.status = status;
      button.textContent = MOVE_LABELS[status];
      button.setAttribute('aria-label', `${MOVE_LABELS[status]}: order ${shortId(order.id)} for ${order.customerName}`);
      return button;
    });
  }

  function renderDetail(detail: DetailModel): void {
    if (detail.kind === 'closed') {
      if (el.detail.open) el.detail.close();
      return;
    }
    if (detail.kind === 'loading') {
      el.detailTitle.textContent = `Order ${shortId(detail.id)}`;
      el.detailBody.replaceChildren(textElement('p', 'Loading…'));
    } else if (detail.kind === 'missing') {
      el.detailTitle.textContent = `Order ${shortId(detail.id)}`;
      el.detailBody.replaceChildren(textElement('p', 'This order does not exist (it may have been deleted).'));
    } else {
      fillDetail(detail.order);
    }
    if (!el.detail.open) el.detail.showModal();
  }

  function fillDetail(order: Order): void {
    el.detailTitle.textContent = `Order ${shortId(order.id)}`;
    const body = doc.createElement('div');
    body.dataset.orderId = order.id;
    body.dataset.version = String(order.version);
    const badge = doc.createElement('span');
    setBadge(badge, order.status);
    const facts = doc.createElement('dl');
    const fact = (term: string, value: string | Node): void => {
      facts.append(textElement('dt', term));
      const dd = doc.createElement('dd');
      dd.append(value);
      facts.append(dd);
    };
    fact('Id', order.id);
    fact('Customer', order.customerName);
    if (order.customerEmail !== undefined) fact('Email', order.customerEmail);
    fact('Status', badge);
    if (order.total !== undefined) fact('Total', money(order.total));
    const lines = doc.createElement('ul');
    lines.className = 'lines';
    lines.append(...order.items.map((item) => textElement('li', itemText(item))));
    const timeline = doc.createElement('ol');
    timeline.className = 'timeline';
    timeline.setAttribute('aria-label', 'Status history');
    for (const entry of order.history) {
      const li = doc.createElement('li');
      li.className = `status-${entry.status}`;
      li.append(textElement('strong', entry.status), ' ', timeElement(entry.at));
      timeline.append(li);
    }
    const actions = doc.createElement('div');
    actions.className = 'actions';
    actions.append(...moveButtons(order));
    body.append(facts, textElement('h3', 'Items'), lines, textElement('h3', 'Timeline'), timeline, actions);
    el.detailBody.replaceChildren(body);
  }

  // -------------------------------------------------------------------------
  // Connection, toasts, announcements
  // -------------------------------------------------------------------------

  function setConnection(status: ConnectionStatus): void {
    clearInterval(countdown);
    el.connection.dataset.state = status.kind;
    el.retry.hidden = status.kind !== 'waiting' && status.kind !== 'offline';
    switch (status.kind) {
      case 'connecting':
        el.connectionText.textContent = status.attempt === 0 ? 'Connecting…' : 'Reconnecting…';
        break;
      case 'open':
        el.connectionText.textContent = 'Live';
        break;
      case 'offline':
        el.connectionText.textContent = 'Offline';
        break;
      case 'waiting': {
        const tick = (): void => {
          const seconds = Math.max(0, Math.ceil((status.retryAt - Date.now()) / 1000));
          el.connectionText.textContent = `Reconnecting in ${seconds}s`;
        };
        tick();
        countdown = setInterval(tick, 250);
        break;
      }
    }
  }

  function toast(text: string, kind: 'info' | 'error' = 'info'): void {
    const item = textElement('div', text);
    item.className = `toast ${kind}`;
    el.toasts.append(item);
    while (el.toasts.children.length > 4) el.toasts.firstElementChild?.remove();
    setTimeout(() => item.remove(), TOAST_MS);
    if (kind === 'error') announce(text);
  }

  function announce(text: string): void {
    // Replacing the text of an aria-live region is what screen readers announce.
    el.announcer.textContent = text;
  }

  function flash(card: HTMLElement | undefined): void {
    if (card === undefined) return;
    card.classList.remove(CARD_FLASH_CLASS);
    void card.offsetWidth; // restart the animation
    card.classList.add(CARD_FLASH_CLASS);
  }

  function textElement<K extends keyof HTMLElementTagNameMap>(tag: K, text: string): HTMLElementTagNameMap[K] {
    const element = doc.createElement(tag);
    element.textContent = text;
    return element;
  }

  function timeElement(iso: string): HTMLTimeElement {
    const time = textElement('time', new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }));
    time.dateTime = iso;
    return time;
  }

  function showLogin(message: string): void {
    doc.body.classList.add('locked');
    el.login.hidden = false;
    el.signOut.hidden = true;
    el.loginError.textContent = message;
    el.login.querySelector<HTMLInputElement>('input')?.focus();
  }

  function showBoard(signedIn: boolean): void {
    doc.body.classList.remove('locked');
    el.login.hidden = true;
    el.login.reset();
    el.loginError.textContent = '';
    el.signOut.hidden = !signedIn;
  }

  return {
    render,
    setConnection,
    showLogin,
    showBoard,
    setTrackingMode: () => {
      doc.body.classList.add('tracking');
      el.detail.addEventListener('cancel', (event) => event.preventDefault()); // Esc must not close the only view
    },
    onAction: (listener) => {
      emit = listener;
    },
    showFormProblem,
    resetForm,
    settleMove: (id) => {
      for (const button of doc.querySelectorAll<HTMLButtonElement>(`[data-order-id="${CSS.escape(id)}"] button[data-action="move"]`)) {
        button.disabled = false;
      }
    },
    toast,
    announce,
  };
}

function setBadge(badge: HTMLElement, status: OrderStatus): void {
  badge.className = `badge status-${status}`;
  badge.textContent = status;
}

function summaryText(model: BoardModel): string {
  if (!model.synced) return 'Loading orders…';
  const parts = [`Showing ${model.cards.length.toLocaleString()} of ${model.matching.toLocaleString()}`];
  if (model.filter.q !== '') parts.push(`matching “${model.filter.q}”`);
  if (model.total > model.loaded) parts.push(`(${model.loaded.toLocaleString()} of ${model.total.toLocaleString()} orders loaded)`);
  return parts.join(' ');
}

/**
 * The short form of an order id: its last 8 characters (a UUID v7 starts with the time, which orders share).
 * @param id the full id
 */
export function shortId(id: string): string {
  return id.slice(-8);
}

function itemText(item: Order['items'][number]): string {
  const price = item.price === undefined ? '' : ` · ${money(item.price)}`;
  return `${item.quantity} × ${item.name}${price}`;
}

function money(value: number): string {
  return value.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function fieldInputName(field: string | undefined): string {
  switch (field) {
    case 'quantity':
      return 'itemQuantity';
    case 'price':
      return 'itemPrice';
    default:
      return 'itemName';
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
