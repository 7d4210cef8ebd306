/**
 * @module cli/watch
 * What the terminal client does with the stream: prints the snapshot and
 * every event, pursues the goal it was given (`--once`, `--count`, `--until`,
 * `--send`), or in interactive mode sends what the user types and prints the
 * answers; and decides the exit code. The connection itself (reconnects,
 * resume, heartbeats) is {@link StreamConnection}'s.
 */

import { EXIT, type WatchOptions } from './args.ts';
import { HEARTBEAT_PING_ID, StreamConnection } from './connection.ts';
import { formatEvent, formatOrder, formatSnapshot, formatTracking, jsonForTerminal, type FormatOptions } from './format.ts';
import {
  ALLOWED_TRANSITIONS,
  type ClientMessage,
  type ErrorMessage,
  type Order,
  type OrderEvent,
  type ServerMessage,
  type SnapshotMessage,
} from '../src/protocol.ts';

/** Where output goes, and how wide it may be. */
export interface WatchIo {
  /** Write text (one or more lines, without the final newline) to stdout. */
  out(text: string): void;
  /** Write a note to stderr (without the final newline). */
  err(text: string): void;
  /** Cells per line for human output now (it follows terminal resizes), or undefined for no limit. */
  width(): number | undefined;
}

/** The client's name, at the start of its notes. */
export const NAME = 'liveorders-watch';

/** One run of the client, from connecting to its exit code. */
export class Watch {
  readonly #options: WatchOptions;
  readonly #io: WatchIo;
  readonly #connection: StreamConnection;
  #events = 0;
  #sent = false;
  #finished = false;
  #resolve: (code: number) => void = () => undefined;
  #timeoutTimer: NodeJS.Timeout | undefined;
  /** Interactive: messages typed but not yet sent (no open connection). */
  readonly #outbox: ClientMessage[] = [];
  /**
   * Interactive: the types of the messages sent on the current connection and
   * not yet answered, oldest first. The server answers each message, in order,
   * before it reads the next, so the oldest is the one an answer is for.
   */
  readonly #pending: ClientMessage['type'][] = [];
  #inputEnded = false;
  /** Interactive: answers that were `error` messages; the run then ends with {@link EXIT.serverError}. */
  #errorAnswers = 0;

  /**
   * @param options validated options
   * @param io output
   */
  constructor(options: WatchOptions, io: WatchIo) {
    this.#options = options;
    this.#io = io;
    const view = { ...(options.statuses === undefined ? {} : { statuses: options.statuses }), ...(options.orderId === undefined ? {} : { orderId: options.orderId }) };
    // --send needs no table: ask for the smallest snapshot.
    const limit = options.limit ?? (options.send === undefined ? undefined : 1);
    this.#connection = new StreamConnection(
      { url: options.url, view, heartbeatSeconds: options.heartbeatSeconds, ...(limit === undefined ? {} : { limit }), ...(options.token === undefined ? {} : { token: options.token }), ...(options.tokenCommand === undefined ? {} : { tokenCommand: options.tokenCommand }), ...(options.track === undefined ? {} : { track: options.track }) },
      {
        message: (message, raw) => this.#handle(message, raw),
        ready: (again) => this.#onReady(again),
        dropped: () => this.#onDropped(),
        fatal: (code, message) => this.#finish(code, message),
        note: (message) => this.#note(message),
      },
    );
  }

  /**
   * Run until done; resolves with the exit code.
   * @param signal aborting it (Ctrl-C) ends the run with code 0
   */
  run(signal?: AbortSignal): Promise<number> {
    return new Promise((resolve) => {
      this.#resolve = resolve;
      if (signal?.aborted) return this.#finish(EXIT.ok);
      signal?.addEventListener('abort', () => this.#finish(EXIT.ok), { once: true });
      this.#armTimeout();
      this.#connection.start();
    });
  }

  /**
   * Interactive mode: send a message the user typed, now or as soon as a connection is ready.
   * @param message a validated client message
   */
  send(message: ClientMessage): void {
    if (this.#finished) return;
    this.#outbox.push(message);
    this.#flush();
  }

  /** Interactive mode: input ended (EOF, Ctrl-D). The run ends once every message sent has its answer. */
  endInput(): void {
    this.#inputEnded = true;
    this.#endIfAnswered();
  }

  #flush(): void {
    while (this.#outbox.length > 0 && this.#connection.send(this.#outbox[0]!)) {
      this.#pending.push(this.#outbox.shift()!.type);
    }
  }

  #endIfAnswered(): void {
    if (!this.#inputEnded || this.#outbox.length > 0 || this.#pending.length > 0) return;
    // A script piping messages in learns from the exit code that one of them was refused.
    const n = this.#errorAnswers;
    if (n === 0) this.#finish(EXIT.ok);
    else this.#finish(EXIT.serverError, `${n} message${n === 1 ? '' : 's'} got an error answer`);
  }

  /** With a goal, --timeout bounds the whole run; without one, the silence between events. */
  #armTimeout(): void {
    const seconds = this.#options.timeoutSeconds;
    if (seconds === undefined) return;
    clearTimeout(this.#timeoutTimer);
    this.#timeoutTimer = setTimeout(() => {
      const what = this.#hasGoal() ? 'for the goal' : 'for an event';
      this.#finish(EXIT.timeout, `timed out after ${seconds}s waiting ${what}`);
    }, seconds * 1000);
  }

  #hasGoal(): boolean {
    const o = this.#options;
    return o.once || o.count !== undefined || o.until !== undefined || o.send !== undefined;
  }

  #onReady(again: boolean): void {
    if (this.#finished) return;
    const send = this.#options.send;
    if (send !== undefined && !again && !this.#sent) {
      this.#sent = true;
      this.#connection.send(send);
    }
    this.#flush();
  }

  #onDropped(): void {
    const n = this.#pending.length;
    if (n === 0) return;
    this.#note(`${n} message${n === 1 ? '' : 's'} sent before the connection dropped got no answer: ${n === 1 ? 'it' : 'each'} may or may not have been applied`);
    this.#pending.length = 0;
    this.#endIfAnswered();
  }

  #handle(message: ServerMessage, raw: string): void {
    if (this.#finished) return;
    const o = this.#options;
    switch (message.type) {
      case 'snapshot':
        if (o.send !== undefined) return;
        this.#print(raw, () => formatSnapshot(message, this.#format()));
        if (this.#pending[0] === 'subscribe') this.#answered();
        if (o.once) return this.#finish(EXIT.ok);
        this.#checkUntil(message.orders.find((order) => order.id === o.orderId), message);
        return;
      case 'resumed':
        if (o.json && o.send === undefined) this.#io.out(jsonForTerminal(raw));
        return;
      case 'events':
        return this.#onEvents(message.events, raw);
      case 'ack':
        this.#print(raw, () => this.#formatAck(message.order, message.trackingToken, message.requestId));
        if (o.interactive) return this.#answered();
        return this.#finish(EXIT.ok);
      case 'pong':
        // The client's own heartbeat pongs are nobody's answer.
        if (message.id === HEARTBEAT_PING_ID || !(o.interactive || o.send?.type === 'ping')) return;
        this.#print(raw, () => `pong${message.id === undefined ? '' : ` ${message.id}`}`);
        return o.interactive ? this.#answered() : this.#finish(EXIT.ok);
      case 'refreshed':
        // Only a refresh the user sent (the connection's own are not handed on).
        if (!o.interactive) return;
        this.#print(raw, () => `refreshed: the connection lives until ${new Date(message.expiresAt * 1000).toISOString()}`);
        return this.#answered();
      case 'error':
        return this.#onErrorMessage(message, raw);
      case 'productUpdated':
        // The catalog's stock and prices: shown with --json only (the terminal view is about orders).
        if (o.json && o.send === undefined) this.#io.out(jsonForTerminal(raw));
        return;
    }
  }

  #onEvents(events: readonly OrderEvent[], raw: string): void {
    if (events.length === 0) return; // all printed before a reconnect
    const o = this.#options;
    if (o.send !== undefined) return;
    if (o.timeoutSeconds !== undefined && !this.#hasGoal()) this.#armTimeout();
    if (o.json) this.#io.out(jsonForTerminal(raw));
    for (const event of events) {
      if (!o.json) this.#io.out(formatEvent(event, this.#format()));
      this.#events++;
      if (o.count !== undefined && this.#events >= o.count) return this.#finish(EXIT.ok);
      if (event.order.id === o.orderId) {
        if (event.type === 'order.deleted') return this.#finish(EXIT.failure, `order ${event.order.id} was deleted`);
        this.#checkUntil(event.order);
        if (this.#finished) return;
      }
    }
  }

  /** An `error` answer: in interactive mode one answer among others; otherwise the end. */
  #onErrorMessage(message: ErrorMessage, raw: string): void {
    const fields = (message.errors ?? []).map((e) => `${e.field} ${e.message}`).join('; ');
    const what = `${message.code}: ${message.message}${fields === '' ? '' : ` (${fields})`}`;
    if (this.#options.interactive) {
      this.#errorAnswers++;
      this.#print(raw, () => `error${message.requestId === undefined ? '' : ` ${message.requestId}`}  ${what}`);
      return this.#answered();
    }
    if (this.#options.json) this.#io.out(jsonForTerminal(raw));
    this.#finish(EXIT.serverError, `the server refused: ${what}`);
  }

  #answered(): void {
    this.#pending.shift();
    this.#endIfAnswered();
  }

  /** For --until: done when the order has the status; failed when it can no longer get there. */
  #checkUntil(order: Order | undefined, snapshot?: SnapshotMessage): void {
    const until = this.#options.until;
    if (until === undefined) return;
    if (order === undefined) {
      if (snapshot !== undefined) this.#note(`order ${this.#options.orderId} is not in the store (yet); waiting`);
      return;
    }
    if (order.status === until) return this.#finish(EXIT.ok);
    if (!ALLOWED_TRANSITIONS[order.status].includes(until)) {
      this.#finish(EXIT.failure, `order ${order.id} is ${order.status} and can no longer become ${until}`);
    }
  }

  /** The order line; in interactive mode labelled "ack" (and its requestId); then a new order's tracking token and page. */
  #formatAck(order: Order, trackingToken: string | undefined, requestId: string | undefined): string {
    const label = this.#options.interactive ? `ack${requestId === undefined ? '' : ` ${requestId}`}` : undefined;
    const line = formatOrder(order, this.#format(), label);
    return trackingToken === undefined ? line : `${line}\n${formatTracking(trackingToken, trackingPageUrl(this.#options.url, trackingToken))}`;
  }

  #format(): FormatOptions {
    const width = this.#io.width();
    return width === undefined ? { color: this.#options.color } : { color: this.#options.color, width };
  }

  #print(raw: string, human: () => string): void {
    this.#io.out(this.#options.json ? jsonForTerminal(raw) : human());
  }

  #note(message: string): void {
    this.#io.err(`${NAME}: ${message}`);
  }

  #finish(code: number, message?: string): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#timeoutTimer);
    if (message !== undefined) this.#note(message);
    this.#connection.stop();
    this.#resolve(code);
  }
}

/**
 * The customer page a tracking token opens: `/track/TOKEN` on the server the
 * socket URL points at (same host and port, http for ws and https for wss).
 * @param socketUrl the WebSocket URL
 * @param token the tracking token
 */
function trackingPageUrl(socketUrl: URL, token: string): string {
  const page = new URL(`/track/${encodeURIComponent(token)}`, socketUrl);
  page.protocol = socketUrl.protocol === 'wss:' ? 'https:' : 'http:';
  page.search = '';
  return page.toString();
}
