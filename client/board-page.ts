/**
 * @module client/board-page
 * The board's composition root: wires the connection, the pure state, the
 * REST calls, the address bar and the UI. Renders are batched into one per
 * animation frame however many messages arrive.
 */

import { changeStatus, changeStatuses, createOrder, downloadWithBearer, getOrder, getOrderEmails, getPresence, getTrackingToken, listOrders, listProducts, probeAccess, setBearerToken, type OrderEmail } from './api.ts';
import { openConnection, type Connection, type ConnectionStatus } from './connection.ts';
import { ANNOUNCE_INTERVAL_MS, TOAST_WINDOW_MS, announcement, createBatcher, createdToast } from './notify.ts';
import { addOlder, awaitSnapshot, initialState, reduce, resumePoint, type BoardState } from './state.ts';
import { PresenceWatch } from './presence-watch.ts';
import { pollStats, type StatsPoller, type StatsReading } from './stats.ts';
import { detailHash, detailHashTarget, formatFilter, parseFilter, type Filter } from './url-state.ts';
import { isolate } from './ui/dom.ts';
import { createBoardUi, shortId, type BoardModel, type BoardUi, type DetailModel, type UiAction } from './ui/index.ts';
import { customerLink } from './ui/share.ts';
import {
  WS_BEARER_PREFIX,
  WS_SUBPROTOCOL,
  isOrderId,
  parseCreateOrderInput,
  viewKey,
  type Order,
  type OrderEvent,
  type Product,
  type ServerMessage,
  type SnapshotMessage,
  type View,
} from '../src/protocol.ts';

/** Cards rendered at first, and added per "Show more". Keeps 10,000 loaded orders cheap to draw. */
const RENDER_PAGE = 120;
/** Orders fetched per "Load older". */
const OLDER_PAGE = 500;
/** Name of the performance measure around each render. */
const RENDER_MEASURE = 'liveorders:render';
/** Where the access token lives: this tab only, gone when it closes. */
const TOKEN_KEY = 'liveorders.token';
/** Own creates remembered, so their events raise no "new order" toast (the notice under the form says it). */
const OWN_IDS_MAX = 100;
/** Customer tracking tokens kept for this page's life, so a dialog opened again asks the server nothing. */
const TOKENS_KEPT = 1000;

/** An open dialog asks again this long after a change what was emailed about it, in milliseconds: the email follows the change. */
const EMAILS_RECHECK_MS = 3000;
/** What a short order id in a link must be: 8 or more of the id's last hex digits (dashes allowed). */
const SHORT_ID = /^[0-9a-f-]{8,35}$/;
/** The file name a CSV export is saved as when the page fetches it itself. */
const CSV_FILE_NAME = 'orders.csv';

/**
 * Run the board on `document`.
 */
export function startBoard(): void {
  const ui = createBoardUi(document);
  const page = new BoardPage(ui);
  ui.onAction((action) => void page.handle(action));
  window.addEventListener('hashchange', () => void page.openFromHash(location.hash));
  window.addEventListener('popstate', () => page.applyFilter(parseFilter(location.search), false));
  void page.start();
}

class BoardPage {
  readonly #ui: BoardUi;
  #filter: Filter = parseFilter(location.search);
  #state: BoardState;
  #renderLimit = RENDER_PAGE;
  #loadingOlder = false;
  #highlight: string[] = [];
  #detail: DetailModel = { kind: 'closed' };
  /** What was emailed about the order in the dialog, for the version it was asked at. */
  #emails: { readonly id: string; readonly version: number; readonly lines: readonly OrderEmail[] | undefined } | undefined;
  #frame = 0;
  #token = sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  #connected = false;
  /** The live numbers' poll, from the first connection on. */
  #stats: StatsPoller | undefined;
  #reading: StatsReading | undefined;
  /** The newest seq the stream told of, and its epoch: fresher than any poll. */
  #streamSeq: { seq: number; epoch: string } | undefined;
  /** Customer tracking tokens by order id: from this page's creates, or asked for when a dialog opens. */
  readonly #trackingTokens = new Map<string, string>();
  readonly #askingToken = new Set<string>();
  /** Whether this page may hand out customer links: false once the server said no (a viewer), unknown until asked. */
  #mayShare: boolean | undefined;
  /** A short id from the address bar, resolved once the first snapshot is in. */
  #pendingTarget = false;
  /** When the page stopped being live (ISO time), while it is not. */
  #staleSince: string | undefined;
  /** Offline until started: the page connects once it knows it may read. */
  #connection: Connection = { send: () => false, retryNow: () => undefined, close: () => undefined };
  /** Set while the page waits for a fresh token after the server closed the socket at its expiry. */
  #renewal: ((token: string) => void) | undefined;
  /** Creates sent and not yet answered; other people's new-order toasts wait for them. */
  #creating = 0;
  readonly #ownIds = new Set<string>();
  /** The catalog, by SKU, with live stock. */
  #products = new Map<string, Product>();
  /** Products a `productUpdated` told of since the catalog was last read (they win over an older read). */
  readonly #productsSeen = new Set<string>();
  readonly #toasts = createBatcher<Order>(TOAST_WINDOW_MS, (created) => this.#toastCreated(created), { hold: () => this.#creating > 0 });
  readonly #announcements = createBatcher<OrderEvent>(ANNOUNCE_INTERVAL_MS, (events) => this.#announce(events), { leading: true });

  /** Tells the server which order's detail is open, and shows who else watches it. */
  readonly #presence: PresenceWatch;

  constructor(ui: BoardUi) {
    this.#ui = ui;
    this.#presence = new PresenceWatch({ send: (message) => this.#connection.send(message), fetch: getPresence, show: (counts) => ui.presence.show(counts) });
    this.#state = initialState(viewOf(this.#filter));
    setBearerToken(this.#token);
  }

  async start(): Promise<void> {
    const probe = await probeAccess();
    if (!probe.ok && (probe.error.status === 401 || probe.error.status === 403)) {
      const why = this.#token === undefined ? 'This board needs an access token.' : `That token was refused: ${probe.error.detail}`;
      this.#ui.signIn.showLogin(why);
      return;
    }
    this.#ui.signIn.showBoard(this.#token !== undefined);
    void this.openFromHash(location.hash);
    this.#connect();
    this.#scheduleRender();
  }

  async handle(action: UiAction): Promise<void> {
    switch (action.type) {
      case 'create':
        return this.#create(action.body, action.rowOfItem);
      case 'move': {
        const result = await changeStatus(action.id, action.status, action.version);
        this.#ui.settleMove(action.id);
        if (!result.ok) {
          const why = result.error.code === 'LO_ERR_VERSION_MISMATCH' ? 'it was changed elsewhere meanwhile' : result.error.detail;
          this.#ui.notices.toast(`Could not update order ${shortId(action.id)}: ${why}`, 'error');
        }
        return;
      }
      case 'bulkMove': {
        const result = await changeStatuses(action.orders, action.status);
        this.#ui.selection.showResult(action.status, result.ok ? result.value : result.error.detail);
        return;
      }
      case 'filter':
        return this.applyFilter(action.filter, true);
      case 'showMore':
        this.#renderLimit += RENDER_PAGE;
        return this.#scheduleRender();
      case 'loadOlder':
        return this.#loadOlder();
      case 'retry':
        return this.#connection.retryNow();
      case 'login':
        if (this.#renewal !== undefined) return this.#renewed(action.token);
        sessionStorage.setItem(TOKEN_KEY, action.token);
        location.reload(); // start over with the token: one code path for signed-in pages
        return;
      case 'logout':
        sessionStorage.removeItem(TOKEN_KEY);
        location.reload();
        return;
      case 'export': {
        const result = await downloadWithBearer(action.href, CSV_FILE_NAME);
        if (!result.ok) this.#ui.notices.toast(`Could not export the orders: ${result.error.detail}`, 'error');
        return;
      }
      case 'closeDetail':
        if (detailHashTarget(location.hash) !== undefined) history.pushState(null, '', location.pathname + location.search);
        this.#detail = { kind: 'closed' };
        return this.#scheduleRender();
    }
  }

  /** Statuses go to the server (it sends that view's snapshot); the search stays local. */
  applyFilter(next: Filter, pushUrl: boolean): void {
    const statusesChanged = next.statuses.join() !== this.#filter.statuses.join();
    this.#filter = next;
    this.#renderLimit = RENDER_PAGE;
    if (pushUrl) history.replaceState(null, '', location.pathname + formatFilter(next) + location.hash);
    if (statusesChanged) {
      this.#state = awaitSnapshot(this.#state, viewOf(next));
      this.#connection.send({ type: 'subscribe', ...viewOf(next) });
    }
    this.#scheduleRender();
  }

  /**
   * Open what `#/orders/...` names: a whole id, or a short one (the 8 digits
   * the board shows) that one loaded order ends in; anything else says it
   * was not found rather than showing the board as if nothing was asked.
   */
  async openFromHash(hash: string): Promise<void> {
    const target = detailHashTarget(hash);
    if (target === undefined || isWholeId(target)) return this.openDetail(target);
    const suffix = target.toLowerCase();
    if (SHORT_ID.test(suffix) && this.#state.epoch === undefined) {
      // The orders are not in yet: look once the first snapshot is.
      this.#pendingTarget = true;
      this.#detail = { kind: 'loading', id: target };
      return this.#scheduleRender();
    }
    const matches = SHORT_ID.test(suffix) ? this.#state.list.filter((o) => o.id.endsWith(suffix)).slice(0, 2) : [];
    if (matches.length === 1) {
      const id = matches[0]!.id;
      history.replaceState(null, '', location.pathname + location.search + detailHash(id));
      return this.openDetail(id);
    }
    this.#detail = { kind: 'missing', id: target, reason: 'unknown' };
    this.#scheduleRender();
  }

  async openDetail(id: string | undefined, reason: 'deleted' | 'reset' = 'deleted'): Promise<void> {
    if (id === undefined) {
      this.#detail = { kind: 'closed' };
      return this.#scheduleRender();
    }
    const known = this.#state.orders.get(id);
    this.#detail = known === undefined ? { kind: 'loading', id } : this.#orderDetail(known);
    this.#scheduleRender();
    if (known !== undefined) return;
    const result = await getOrder(id);
    if (this.#detail.kind !== 'loading' || this.#detail.id !== id) return;
    this.#detail = result.ok ? this.#orderDetail(result.value) : { kind: 'missing', id, reason };
    this.#scheduleRender();
  }

  /** The dialog's model of `order`, with its customer link and emails once known (and asked for if not). */
  #orderDetail(order: Order): DetailModel {
    const token = this.#trackingTokens.get(order.id);
    if (token === undefined) this.#askTrackingToken(order.id);
    const emails = this.#emails?.id === order.id ? this.#emails.lines : undefined;
    if (this.#emails?.id !== order.id || this.#emails.version !== order.version) this.#askEmails(order);
    const link = token === undefined ? {} : { customerLink: customerLink(token) };
    return emails === undefined ? { kind: 'order', order, ...link } : { kind: 'order', order, ...link, emails };
  }

  /**
   * Ask what was emailed about the order in the dialog: when it opens or
   * its version moves, and again a little later (an email goes out after
   * the change it is about). Viewers get 403 and stop asking.
   */
  #askEmails(order: Order): void {
    if (this.#mayShare === false) return;
    let asked = { id: order.id, version: order.version, lines: this.#emails?.id === order.id ? this.#emails.lines : undefined };
    this.#emails = asked;
    const fetchEmails = (): void => {
      void getOrderEmails(order.id).then((result) => {
        if (this.#emails !== asked) return;
        if (!result.ok) {
          if (result.error.status === 403) this.#mayShare = false;
          return;
        }
        this.#emails = asked = { ...asked, lines: result.value };
        if (this.#detail.kind === 'order' && this.#detail.order.id === order.id) {
          this.#detail = this.#orderDetail(this.#detail.order);
          this.#scheduleRender();
        }
      });
    };
    fetchEmails();
    setTimeout(fetchEmails, EMAILS_RECHECK_MS);
  }

  /**
   * Ask the server for an order's tracking token, once. Only those who may
   * create orders get one: a 403 means this page is a viewer's, and it stops
   * asking (viewers never see a customer link).
   */
  #askTrackingToken(id: string): void {
    if (this.#mayShare === false || this.#askingToken.has(id)) return;
    this.#askingToken.add(id);
    void getTrackingToken(id).then((result) => {
      this.#askingToken.delete(id);
      if (result.ok) {
        this.#mayShare = true;
        this.#keepTrackingToken(id, result.value);
      } else if (result.error.status === 403) {
        this.#mayShare = false;
        return;
      } else {
        return; // gone, or not reachable: the dialog says so by itself
      }
      if (this.#detail.kind === 'order' && this.#detail.order.id === id) {
        this.#detail = this.#orderDetail(this.#detail.order);
        this.#scheduleRender();
      }
    });
  }

  #keepTrackingToken(id: string, token: string): void {
    this.#trackingTokens.set(id, token);
    if (this.#trackingTokens.size > TOKENS_KEPT) this.#trackingTokens.delete(this.#trackingTokens.keys().next().value!);
  }

  async #create(body: Parameters<typeof createOrder>[0], rowOfItem: readonly number[]): Promise<void> {
    // The server's own validator, run here first: mistakes show at once, without a round trip.
    const checked = parseCreateOrderInput(body);
    if (!checked.ok) {
      const problem = checked.error;
      this.#ui.form.showProblem({ status: 400, code: problem.code, detail: problem.message, errors: problem.details.errors ?? [] }, rowOfItem);
      return;
    }
    this.#creating++;
    const result = await createOrder(body);
    this.#creating--;
    if (!result.ok) {
      this.#ui.form.showProblem(result.error, rowOfItem);
      return;
    }
    const { trackingToken, ...order } = result.value;
    this.#ownIds.add(order.id);
    if (this.#ownIds.size > OWN_IDS_MAX) this.#ownIds.delete(this.#ownIds.values().next().value!);
    this.#mayShare = true;
    this.#keepTrackingToken(order.id, trackingToken);
    this.#ui.form.reset();
    // Said under the form, where it stays with the customer link, not in a toast over the activity feed.
    this.#ui.created.show(order, customerLink(trackingToken));
    this.#ui.notices.announce(`Created order ${shortId(order.id)} for ${isolate(order.customerName)}.`);
  }

  /**
   * The catalog read again (on every snapshot or resume: updates sent while
   * disconnected are not replayed), kept live by `productUpdated`. Updates
   * that arrive while it loads are applied on top when they are newer.
   */
  async #loadProducts(): Promise<void> {
    const result = await listProducts();
    if (!result.ok) return;
    const loaded = new Map(result.value.map((p) => [p.sku, p]));
    for (const [sku, product] of this.#products) if ((loaded.get(sku)?.version ?? 0) < product.version && this.#productsSeen.has(sku)) loaded.set(sku, product);
    this.#products = loaded;
    this.#productsSeen.clear();
    this.#ui.products.render(this.#products);
  }

  #productUpdated(product: Product, deleted: boolean): void {
    this.#productsSeen.add(product.sku);
    if (deleted) this.#products.delete(product.sku);
    else if ((this.#products.get(product.sku)?.version ?? 0) <= product.version) this.#products.set(product.sku, product);
    this.#ui.products.render(this.#products);
  }

  #connect(): void {
    this.#connection = openConnection({
      url: () => socketUrl(this.#state),
      protocols: () => (this.#token === undefined ? [WS_SUBPROTOCOL] : [WS_SUBPROTOCOL, WS_BEARER_PREFIX + this.#token]),
      onStatus: (status) => this.#onStatus(status),
      onMessage: (message) => this.#onMessage(message),
      onProtocolError: (text) => console.warn('liveorders: ignored a frame this page does not understand', text.slice(0, 200)),
      // Start over: the access probe then says the token was refused and asks for another.
      onRevoked: () => location.reload(),
      renewToken: () => this.#askForFreshToken(),
    });
  }

  /** The sign-in took at expiry (4001): ask for a fresh token, keeping the board (and where it was) behind the form. */
  #askForFreshToken(): Promise<string> {
    this.#ui.signIn.showLogin('Your sign-in has expired. Sign in again with a fresh access token to go on where you left off.');
    return new Promise((resolve) => (this.#renewal = resolve));
  }

  /** A token typed while a fresh one is awaited: if the server takes it, the stream reconnects with it and resumes. */
  async #renewed(token: string): Promise<void> {
    setBearerToken(token);
    const probe = await probeAccess();
    if (!probe.ok && (probe.error.status === 401 || probe.error.status === 403)) {
      setBearerToken(this.#token);
      this.#ui.signIn.showLogin(`That token was refused: ${probe.error.detail}`);
      return;
    }
    const resolve = this.#renewal;
    this.#renewal = undefined;
    this.#token = token;
    sessionStorage.setItem(TOKEN_KEY, token);
    this.#ui.signIn.showBoard(true);
    resolve?.(token);
  }

  #onStatus(status: ConnectionStatus): void {
    this.#ui.setConnection(status);
    const connected = status.kind === 'open';
    if (connected) {
      // From the first connection on, so the first reading already counts this page; at once on every reconnect.
      if (this.#stats === undefined) {
        this.#stats = pollStats((reading) => {
          this.#reading = reading;
          this.#showNumbers();
          this.#ui.admin.show(reading === undefined ? undefined : { stats: reading.stats.all, eventsPerSecond: reading.eventsPerSecond });
        });
      } else if (!this.#connected) {
        this.#stats.refresh();
      }
      // A new socket watches nothing: tell it which order's detail is open.
      this.#presence.reconnected();
      this.#staleSince = undefined;
      this.#ui.form.clearNetworkProblem();
    } else {
      if (this.#connected || this.#staleSince === undefined) this.#staleSince ??= new Date().toISOString();
      this.#state = awaitSnapshot(this.#state, this.#state.view);
    }
    this.#connected = connected;
    this.#scheduleRender();
  }

  #onMessage(message: ServerMessage): void {
    if ((message.type === 'snapshot' || message.type === 'resumed') && !sameView(message.view, viewOf(this.#filter))) {
      return; // a snapshot for a view the user already left; the one asked for is on its way
    }
    const previousEpoch = this.#state.epoch;
    this.#noteStreamSeq(message);
    this.#state = reduce(this.#state, message);
    if (this.#state.outOfSync) {
      this.#connection.send({ type: 'subscribe', ...viewOf(this.#filter) });
      this.#state = awaitSnapshot(this.#state, this.#state.view);
    }
    if (message.type === 'snapshot' || message.type === 'resumed') void this.#loadProducts();
    if (message.type === 'productUpdated') this.#productUpdated(message.product, message.deleted === true);
    if (message.type === 'snapshot') this.#afterSnapshot(message, previousEpoch);
    if (message.type === 'events') {
      const applied = this.#state.applied;
      this.#toasts.add(applied.filter((e) => e.type === 'order.created').map((e) => e.order));
      this.#announcements.add(applied);
      this.#ui.activity.addEvents(applied);
    }
    if (message.type === 'snapshot' || message.type === 'resumed' || message.type === 'events') this.#showNumbers();
    this.#highlight.push(...this.#state.changed);
    if (this.#detail.kind === 'order') {
      const id = this.#detail.order.id;
      const live = this.#state.orders.get(id);
      const gone = this.#state.applied.some((e) => e.type === 'order.deleted' && e.order.id === id);
      if (gone) this.#detail = { kind: 'missing', id, reason: 'deleted' };
      else if (live !== undefined) this.#detail = this.#orderDetail(live);
    }
    this.#scheduleRender();
  }

  /** A snapshot replaced everything: say so when the server's data was reset, and re-check an open detail. */
  #afterSnapshot(message: SnapshotMessage, previousEpoch: string | undefined): void {
    const restarted = previousEpoch !== undefined && previousEpoch !== message.epoch;
    if (restarted) {
      const text = 'The server restarted and its data was reset: the board now shows what it holds.';
      this.#ui.notices.banner(text);
      this.#ui.notices.announce(text);
      this.#ui.activity.addNote('Server restarted: data reset');
    } else if (message.reset === true) {
      this.#ui.activity.addNote('Missed too many changes while away: board reloaded');
    }
    if (this.#pendingTarget) {
      this.#pendingTarget = false;
      void this.openFromHash(location.hash);
    }
    if (this.#detail.kind === 'order' && !this.#state.orders.has(this.#detail.order.id)) {
      // Not in this snapshot: older than it reaches, or gone. Only the server knows.
      const id = this.#detail.order.id;
      this.#detail = { kind: 'loading', id };
      void this.openDetail(id, restarted ? 'reset' : 'deleted');
    }
  }

  /** Every message with a seq says how far the server's history reached: the live numbers need no poll for that. */
  #noteStreamSeq(message: ServerMessage): void {
    if (message.type === 'snapshot' || message.type === 'resumed') {
      this.#streamSeq = { seq: message.seq, epoch: message.epoch };
    } else if (message.type === 'events' && this.#streamSeq !== undefined) {
      const last = message.events.at(-1)?.seq ?? 0;
      if (last > this.#streamSeq.seq) this.#streamSeq = { ...this.#streamSeq, seq: last };
    }
  }

  /** Connections and events/s from the last poll; seq from the stream or the poll, whichever is newer. */
  #showNumbers(): void {
    const reading = this.#reading;
    const stream = this.#streamSeq;
    let seq: number | undefined;
    if (reading !== undefined && stream !== undefined && reading.epoch === stream.epoch) seq = Math.max(reading.seq, stream.seq);
    else if (stream !== undefined && this.#connected) seq = stream.seq;
    else seq = reading?.seq ?? stream?.seq;
    this.#ui.activity.showNumbers({ connections: reading?.connections, eventsPerSecond: reading?.eventsPerSecond, seq });
  }

  #toastCreated(created: Order[]): void {
    const text = createdToast(created.filter((o) => !this.#ownIds.has(o.id)));
    if (text !== undefined) this.#ui.notices.toast(text);
  }

  #announce(events: OrderEvent[]): void {
    const text = announcement(events);
    if (text !== undefined) this.#ui.notices.announce(text);
  }

  async #loadOlder(): Promise<void> {
    if (this.#loadingOlder || this.#state.olderCursor === undefined) return;
    this.#loadingOlder = true;
    this.#scheduleRender();
    const asked = this.#state.view;
    const loadedBefore = this.#state.orders.size;
    const statuses = asked.statuses ? { statuses: asked.statuses } : {};
    const result = await listOrders({ cursor: this.#state.olderCursor, limit: OLDER_PAGE, ...statuses });
    this.#loadingOlder = false;
    if (!result.ok) this.#ui.notices.toast(`Could not load older orders: ${result.error.detail}`, 'error');
    else if (sameView(asked, this.#state.view)) this.#state = addOlder(this.#state, result.value.orders, result.value.nextCursor);
    // Reveal the next cards only when everything loaded before was already shown.
    if (this.#renderLimit >= loadedBefore) this.#renderLimit += RENDER_PAGE;
    this.#scheduleRender();
  }

  #scheduleRender(): void {
    if (this.#frame !== 0) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      const start = performance.now();
      this.#ui.render(this.#model());
      this.#presence.follow(this.#detail.kind === 'order' ? this.#detail.order.id : undefined);
      this.#highlight = [];
      // Visible in the browser's performance panel, and read by bench/page-render.ts.
      performance.measure(RENDER_MEASURE, { start, end: performance.now() });
    });
  }

  #model(): BoardModel {
    const state = this.#state;
    const all = state.list;
    const q = this.#filter.q.toLowerCase();
    const matching = q === '' ? all : all.filter((o) => matchesSearch(o, q));
    return {
      hasData: state.epoch !== undefined,
      connected: this.#connected,
      live: this.#connected && state.synced,
      staleSince: this.#staleSince,
      cards: matching.slice(0, this.#renderLimit),
      shown: Math.min(matching.length, this.#renderLimit),
      matching: matching.length,
      loaded: state.orders.size,
      total: state.total,
      counts: state.counts,
      filter: this.#filter,
      canShowMore: matching.length > this.#renderLimit,
      canLoadOlder: state.synced && state.olderCursor !== undefined,
      loadingOlder: this.#loadingOlder,
      exportNeedsToken: this.#token !== undefined,
      highlight: this.#highlight,
      detail: this.#detail,
    };
  }
}

/** Whether a link's target is a whole order id (a plain boolean: the type guard would narrow the rest to never). */
function isWholeId(target: string): boolean {
  return isOrderId(target);
}

function matchesSearch(order: Order, q: string): boolean {
  return order.customerName.toLowerCase().includes(q) || order.id.includes(q);
}

/** The view (what the socket streams) of a filter: its statuses; the search stays in the page. */
function viewOf(f: Filter): View {
  return f.statuses.length === 0 ? {} : { statuses: f.statuses };
}

function sameView(a: View, b: View): boolean {
  return viewKey(a) === viewKey(b);
}

/** The socket URL for the wanted view, resuming from the last applied seq when the data held allows it. */
function socketUrl(current: BoardState): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const params = new URLSearchParams();
  if (current.view.statuses !== undefined) params.set('status', current.view.statuses.join(','));
  const resume = resumePoint(current);
  if (resume !== undefined) {
    params.set('since', String(resume.since));
    params.set('epoch', resume.epoch);
  }
  const query = params.toString().replaceAll('%2C', ',');
  return `${scheme}//${location.host}/ws${query === '' ? '' : `?${query}`}`;
}
