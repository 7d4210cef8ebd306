/**
 * @module client/main
 * The page's composition root: wires the connection, the pure state, the REST
 * calls, the address bar and the view. Renders are batched into one per
 * animation frame however many messages arrive.
 */

import { changeStatus, createOrder, getOrder, getTrackedOrder, listOrders, probeAccess, setBearerToken } from './api.ts';
import { openConnection, type Connection } from './connection.ts';
import { addOlder, awaitSnapshot, initialState, reduce, resumePoint, type BoardState } from './state.ts';
import { formatFilter, parseDetailHash, parseFilter, type Filter } from './url-state.ts';
import { createView, shortId, type BoardModel, type DetailModel, type ViewAction } from './view.ts';
import { WS_BEARER_PREFIX, WS_SUBPROTOCOL, trackingTokenInPath, viewKey, type Order, type OrderEvent, type ServerMessage, type View as ServerView } from '../src/protocol.ts';

/** Cards rendered at first, and added per "Show more". Keeps 10,000 loaded orders cheap to draw. */
const RENDER_PAGE = 120;
/** Orders fetched per "Load older". */
const OLDER_PAGE = 500;
/** More changes than this in one frame are announced as a count, not one by one. */
const ANNOUNCE_EACH_MAX = 3;
/** Name of the performance measure around each render. */
const RENDER_MEASURE = 'liveorders:render';

const view = createView(document);
let filter: Filter = parseFilter(location.search);
let state: BoardState = initialState(serverView(filter));
let renderLimit = RENDER_PAGE;
let loadingOlder = false;
let highlight: string[] = [];
let detail: DetailModel = { kind: 'closed' };
let frame = 0;

/** Where the access token lives: this tab only, gone when it closes. */
const TOKEN_KEY = 'liveorders.token';
/** `/track/TOKEN`: the customer view of one order. */
const trackingToken = trackingTokenInPath(location.pathname);
let token = sessionStorage.getItem(TOKEN_KEY) ?? undefined;
setBearerToken(token);

/** Offline until started: the page connects once it knows it may read. */
let connection: Connection = { send: () => false, retryNow: () => undefined };

view.onAction((action) => void handleAction(action));
window.addEventListener('hashchange', () => openDetail(parseDetailHash(location.hash)));
window.addEventListener('popstate', () => applyFilter(parseFilter(location.search), false));
void start();

async function start(): Promise<void> {
  if (trackingToken !== undefined) {
    view.setTrackingMode();
    state = initialState({});
    detail = { kind: 'loading', id: 'tracking' };
    const order = await getTrackedOrder(trackingToken);
    detail = order.ok ? { kind: 'order', order: order.value } : { kind: 'missing', id: 'tracking' };
    if (order.ok) connect();
    scheduleRender();
    return;
  }
  const probe = await probeAccess();
  if (!probe.ok && (probe.error.status === 401 || probe.error.status === 403)) {
    view.showLogin(token === undefined ? 'This board needs an access token.' : `That token was refused: ${probe.error.detail}`);
    return;
  }
  view.showBoard(token !== undefined);
  openDetail(parseDetailHash(location.hash));
  connect();
  scheduleRender();
}

function connect(): void {
  connection = openConnection({
    url: () => socketUrl(state),
    protocols: () => (token === undefined ? [WS_SUBPROTOCOL] : [WS_SUBPROTOCOL, WS_BEARER_PREFIX + token]),
    onStatus: (status) => {
      view.setConnection(status);
      if (status.kind !== 'open') state = awaitSnapshot(state, state.view);
      scheduleRender();
    },
    onMessage,
    onProtocolError: (text) => console.warn('liveorders: ignored a frame this page does not understand', text.slice(0, 200)),
    // Start over: the access probe then says the token was refused and asks for another.
    onRevoked: () => location.reload(),
  });
}

function onMessage(message: ServerMessage): void {
  if (trackingToken === undefined && (message.type === 'snapshot' || message.type === 'resumed') && !sameView(message.view, serverView(filter))) {
    // A snapshot for a view the user already left; the one asked for is on its way.
    return;
  }
  state = reduce(state, message);
  if (state.outOfSync) {
    connection.send({ type: 'subscribe', ...serverView(filter) });
    state = awaitSnapshot(state, state.view);
  }
  if (message.type === 'events') reportEvents(state.applied);
  highlight.push(...state.changed);
  if (detail.kind === 'order') {
    const id = detail.order.id;
    const live = state.orders.get(id);
    const gone = state.applied.some((e) => e.type === 'order.deleted' && e.order.id === id);
    if (gone) detail = { kind: 'missing', id };
    else if (live !== undefined) detail = { kind: 'order', order: live };
  }
  scheduleRender();
}

async function handleAction(action: ViewAction): Promise<void> {
  switch (action.type) {
    case 'create': {
      const result = await createOrder(action.body);
      if (result.ok) {
        view.resetForm();
        view.toast(`Created order ${shortId(result.value.id)} for ${result.value.customerName}`);
      } else {
        view.showFormProblem(result.error, action.rowOfItem);
      }
      return;
    }
    case 'move': {
      const result = await changeStatus(action.id, action.status, action.version);
      view.settleMove(action.id);
      if (!result.ok) {
        const why = result.error.code === 'LO_ERR_VERSION_MISMATCH' ? 'it was changed elsewhere meanwhile' : result.error.detail;
        view.toast(`Could not update order ${shortId(action.id)}: ${why}`, 'error');
      }
      return;
    }
    case 'filter':
      applyFilter(action.filter, true);
      return;
    case 'showMore':
      renderLimit += RENDER_PAGE;
      scheduleRender();
      return;
    case 'loadOlder':
      await loadOlder();
      return;
    case 'retry':
      connection.retryNow();
      return;
    case 'login':
      sessionStorage.setItem(TOKEN_KEY, action.token);
      location.reload(); // start over with the token: one code path for signed-in pages
      return;
    case 'logout':
      sessionStorage.removeItem(TOKEN_KEY);
      location.reload();
      return;
    case 'closeDetail':
      if (parseDetailHash(location.hash) !== undefined) history.pushState(null, '', location.pathname + location.search);
      detail = { kind: 'closed' };
      scheduleRender();
      return;
  }
}

/** Statuses go to the server (it sends that view's snapshot); the search stays local. */
function applyFilter(next: Filter, pushUrl: boolean): void {
  const statusesChanged = next.statuses.join() !== filter.statuses.join();
  filter = next;
  renderLimit = RENDER_PAGE;
  if (pushUrl) history.replaceState(null, '', location.pathname + formatFilter(filter) + location.hash);
  if (statusesChanged) {
    state = awaitSnapshot(state, serverView(filter));
    connection.send({ type: 'subscribe', ...serverView(filter) });
  }
  scheduleRender();
}

async function loadOlder(): Promise<void> {
  if (loadingOlder || state.olderCursor === undefined) return;
  loadingOlder = true;
  scheduleRender();
  const asked = state.view;
  const loadedBefore = state.orders.size;
  const result = await listOrders({ cursor: state.olderCursor, limit: OLDER_PAGE, ...(asked.statuses ? { statuses: asked.statuses } : {}) });
  loadingOlder = false;
  if (!result.ok) view.toast(`Could not load older orders: ${result.error.detail}`, 'error');
  else if (sameView(asked, state.view)) state = addOlder(state, result.value.orders, result.value.nextCursor);
  // Reveal the next cards only when everything loaded before was already shown.
  if (renderLimit >= loadedBefore) renderLimit += RENDER_PAGE;
  scheduleRender();
}

async function openDetail(id: string | undefined): Promise<void> {
  if (id === undefined) {
    detail = { kind: 'closed' };
    scheduleRender();
    return;
  }
  const known = state.orders.get(id);
  detail = known === undefined ? { kind: 'loading', id } : { kind: 'order', order: known };
  scheduleRender();
  if (known !== undefined) return;
  const result = await getOrder(id);
  if (detail.kind !== 'loading' || detail.id !== id) return;
  detail = result.ok ? { kind: 'order', order: result.value } : { kind: 'missing', id };
  scheduleRender();
}

function reportEvents(events: readonly OrderEvent[]): void {
  const created = events.filter((e) => e.type === 'order.created');
  if (created.length > ANNOUNCE_EACH_MAX) view.toast(`${created.length} new orders`);
  else for (const e of created) view.toast(`New order from ${e.order.customerName}`);
  if (events.length > ANNOUNCE_EACH_MAX) {
    view.announce(`${events.length} orders changed`);
    return;
  }
  const sentences = events.map((e) => {
    const who = `Order ${shortId(e.order.id)} for ${e.order.customerName}`;
    if (e.type === 'order.created') return `New order ${shortId(e.order.id)} from ${e.order.customerName}`;
    if (e.type === 'order.deleted') return `${who} was deleted`;
    return `${who} is now ${e.order.status}`;
  });
  if (sentences.length > 0) view.announce(sentences.join('. '));
}

function scheduleRender(): void {
  if (frame !== 0) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    const start = performance.now();
    view.render(model());
    highlight = [];
    // Visible in the browser's performance panel, and read by bench/page-render.ts.
    performance.measure(RENDER_MEASURE, { start, end: performance.now() });
  });
}

function model(): BoardModel {
  const all = state.list;
  const q = filter.q.toLowerCase();
  const matching = q === '' ? all : all.filter((o) => matchesSearch(o, q));
  return {
    synced: state.synced,
    cards: matching.slice(0, renderLimit),
    matching: matching.length,
    loaded: state.orders.size,
    total: state.total,
    counts: state.counts,
    filter,
    canShowMore: matching.length > renderLimit,
    canLoadOlder: state.synced && state.olderCursor !== undefined,
    loadingOlder,
    highlight,
    detail,
  };
}

function matchesSearch(order: Order, q: string): boolean {
  return order.customerName.toLowerCase().includes(q) || order.id.includes(q);
}

function serverView(f: Filter): ServerView {
  return f.statuses.length === 0 ? {} : { statuses: f.statuses };
}

function sameView(a: ServerView, b: ServerView): boolean {
  return viewKey(a) === viewKey(b);
}

/** The socket URL for the wanted view, resuming from the last applied seq when the data held allows it. */
function socketUrl(current: BoardState): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const params = new URLSearchParams();
  if (trackingToken !== undefined) params.set('track', trackingToken);
  if (current.view.statuses !== undefined) params.set('status', current.view.statuses.join(','));
  const resume = resumePoint(current);
  if (resume !== undefined) {
    params.set('since', String(resume.since));
    params.set('server', resume.serverId);
  }
  const query = params.toString().replaceAll('%2C', ',');
  return `${scheme}//${location.host}/ws${query === '' ? '' : `?${query}`}`;
}
