/**
 * @module client/ui/board
 * The board around the cards: counts by status (the funnel and the filter
 * chips), the search box, the layout switch (cards, or a compact row per
 * order), the "Export CSV" link of the current filter, the summary line with
 * its empty states, and the "Show more" and "Load older" buttons. While the
 * page is not live the board is dimmed and says how old what it shows is.
 */

import { COMPACT_LAYOUT, csvExportHref, toggleStatus, type Filter } from '../url-state.ts';
import { ORDER_STATUSES, isOrderStatus, type OrderStatus, type StatusCounts } from '../../src/protocol.ts';
import { count, requireElement } from './dom.ts';

/** What the board around the cards shows. */
export interface BoardChrome {
  /** True once a snapshot arrived: the page holds orders, current or not. */
  readonly hasData: boolean;
  /** The socket is open (the data may still be loading, after a filter change). */
  readonly connected: boolean;
  /** In sync with the server now: moves are offered only then. */
  readonly live: boolean;
  /** When the data shown was last known current (ISO time), while not live. */
  readonly staleSince: string | undefined;
  readonly shown: number;
  readonly matching: number;
  readonly loaded: number;
  readonly total: number;
  readonly counts: StatusCounts;
  readonly filter: Filter;
  readonly canShowMore: boolean;
  readonly canLoadOlder: boolean;
  readonly loadingOlder: boolean;
  /** Signed in with a token, which a plain link cannot send: the export is fetched by the page. */
  readonly exportNeedsToken: boolean;
}

/** What the user did on the board. */
export type BoardAction =
  | { readonly type: 'filter'; readonly filter: Filter }
  | { readonly type: 'showMore' }
  | { readonly type: 'loadOlder' }
  | { readonly type: 'export'; readonly href: string };

/** The board's chrome. */
export interface BoardChromeUi {
  render(model: BoardChrome): void;
}

/**
 * Build it over the page's elements.
 * @param doc the document
 * @param emit where user actions go
 */
export function createBoardChromeUi(doc: Document, emit: (action: BoardAction) => void): BoardChromeUi {
  const el = {
    board: requireElement<HTMLElement>(doc, '#board'),
    funnelBar: requireElement<HTMLElement>(doc, '#funnel-bar'),
    statusFilter: requireElement<HTMLElement>(doc, '#status-filter'),
    search: requireElement<HTMLInputElement>(doc, '#search'),
    summary: requireElement<HTMLElement>(doc, '#summary'),
    empty: requireElement<HTMLElement>(doc, '#empty'),
    emptyText: requireElement<HTMLElement>(doc, '#empty-text'),
    clearFilter: requireElement<HTMLButtonElement>(doc, '#clear-filter'),
    cards: requireElement<HTMLElement>(doc, '#orders'),
    showMore: requireElement<HTMLButtonElement>(doc, '#show-more'),
    loadOlder: requireElement<HTMLButtonElement>(doc, '#load-older'),
    layout: requireElement<HTMLElement>(doc, '#layout-switch'),
    exportCsv: requireElement<HTMLAnchorElement>(doc, '#export-csv'),
  };
  let filter: Filter = { statuses: [], q: '' };
  let exportNeedsToken = false;
  const filterButtons = new Map<OrderStatus | 'all', HTMLButtonElement>();
  const funnelSegments = new Map<OrderStatus, HTMLElement>();

  const chip = (status: OrderStatus | 'all'): HTMLButtonElement => {
    const button = doc.createElement('button');
    button.type = 'button';
    button.className = status === 'all' ? 'chip' : `chip status-${status}`;
    button.dataset.status = status;
    filterButtons.set(status, button);
    return button;
  };
  el.statusFilter.append(chip('all'));
  for (const status of ORDER_STATUSES) {
    el.statusFilter.append(chip(status));
    const segment = doc.createElement('span');
    segment.className = `segment status-${status}`;
    funnelSegments.set(status, segment);
    el.funnelBar.append(segment);
  }

  /** Keep the change here at once: a second change before the next render builds on it, not on what was drawn. */
  const changeFilter = (next: Filter): void => {
    filter = next;
    emit({ type: 'filter', filter: next });
  };
  el.statusFilter.addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-status]');
    if (button === null) return;
    const status = button.dataset.status;
    changeFilter(isOrderStatus(status) ? toggleStatus(filter, status) : { ...filter, statuses: [] });
  });
  el.search.addEventListener('input', () => changeFilter({ ...filter, q: el.search.value.trim() }));
  el.clearFilter.addEventListener('click', () => {
    el.search.value = '';
    changeFilter({ ...filter, statuses: [], q: '' });
    el.search.focus();
  });
  el.layout.addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-layout]');
    if (button === null) return;
    const { layout: _previous, ...rest } = filter;
    changeFilter(button.dataset.layout === COMPACT_LAYOUT ? { ...rest, layout: COMPACT_LAYOUT } : rest);
  });
  el.exportCsv.addEventListener('click', (event) => {
    if (!exportNeedsToken) return; // the link downloads by itself
    event.preventDefault();
    emit({ type: 'export', href: el.exportCsv.getAttribute('href') ?? '' });
  });
  el.showMore.addEventListener('click', () => emit({ type: 'showMore' }));
  el.loadOlder.addEventListener('click', () => emit({ type: 'loadOlder' }));

  function render(model: BoardChrome): void {
    filter = model.filter;
    exportNeedsToken = model.exportNeedsToken;
    const compact = model.filter.layout === COMPACT_LAYOUT;
    el.cards.classList.toggle('compact', compact);
    for (const button of el.layout.querySelectorAll<HTMLButtonElement>('button[data-layout]')) {
      button.setAttribute('aria-pressed', String((button.dataset.layout === COMPACT_LAYOUT) === compact));
    }
    const href = csvExportHref(model.filter);
    if (el.exportCsv.getAttribute('href') !== href) el.exportCsv.setAttribute('href', href);
    renderCounts(model.counts);
    if (el.search.value.trim() !== model.filter.q) el.search.value = model.filter.q;
    el.board.dataset.live = String(model.connected || !model.hasData);
    el.cards.setAttribute('aria-busy', String(!model.live));
    el.summary.textContent = summaryText(model);
    const filtered = model.filter.q !== '' || model.filter.statuses.length > 0;
    el.empty.hidden = !model.hasData || model.matching > 0;
    el.emptyText.textContent = filtered
      ? 'No orders match this filter. Clear it to see every order.'
      : 'No orders yet. Create one with the “New order” form; orders made anywhere else (curl, another tab) appear here at once.';
    el.clearFilter.hidden = !filtered;
    el.showMore.hidden = !model.canShowMore;
    el.loadOlder.hidden = !model.canLoadOlder;
    el.loadOlder.disabled = model.loadingOlder;
    el.loadOlder.textContent = model.loadingOlder ? 'Loading…' : `Load older orders (${count(model.total - model.loaded)} more)`;
  }

  function renderCounts(counts: StatusCounts): void {
    const total = ORDER_STATUSES.reduce((sum, s) => sum + counts[s], 0);
    const all = filterButtons.get('all')!;
    all.textContent = `All ${count(total)}`;
    all.setAttribute('aria-pressed', String(filter.statuses.length === 0));
    for (const status of ORDER_STATUSES) {
      const button = filterButtons.get(status)!;
      button.textContent = `${status} ${count(counts[status])}`;
      button.setAttribute('aria-pressed', String(filter.statuses.includes(status)));
      const segment = funnelSegments.get(status)!;
      segment.style.flexGrow = String(counts[status]);
      segment.title = `${status}: ${count(counts[status])}`;
    }
    el.funnelBar.classList.toggle('empty', total === 0);
  }

  return { render };
}

function summaryText(model: BoardChrome): string {
  if (!model.hasData) return 'Loading orders…';
  if (model.connected && !model.live) return 'Loading orders…';
  const parts = [`Showing ${count(model.shown)} of ${count(model.matching)}`];
  if (model.filter.q !== '') parts.push(`matching “${model.filter.q}”`);
  if (model.total > model.loaded) parts.push(`(${count(model.loaded)} of ${count(model.total)} orders loaded)`);
  const text = parts.join(' ');
  if (model.connected || model.staleSince === undefined) return text;
  return `Not live: showing orders as of ${new Date(model.staleSince).toLocaleTimeString()}; moves wait until the page is back in sync. ${text}`;
}
