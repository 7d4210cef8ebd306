/**
 * @module cli/connection
 * The terminal client's WebSocket: connects, decodes, pings, and when the
 * connection drops reconnects with backoff and resumes from the last seq it
 * delivered (`?since=SEQ&epoch=EPOCH`), so its owner sees every event exactly
 * once, in order, across reconnects.
 */

import type { ClientRequest, IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { EXIT } from './args.ts';
import { backoffDelay } from '../client/backoff.ts';
import {
  CLOSE_CODES,
  encodeClientMessage,
  parseServerMessage,
  type ClientMessage,
  type ServerMessage,
  type View,
} from '../src/protocol.ts';

/** Where to connect and what to ask for. */
export interface ConnectionOptions {
  readonly url: URL;
  readonly token?: string;
  readonly track?: string;
  /** The initial view (`?status=`, `?order=`) and snapshot size (`?limit=`). */
  readonly view: View;
  readonly limit?: number;
  readonly heartbeatSeconds: number;
}

/** What the connection tells its owner. */
export interface ConnectionHandler {
  /**
   * A message. `events` messages carry only events not delivered before
   * (replays after a resume can overlap), and none when all were.
   */
  message(message: ServerMessage, raw: string): void;
  /** A connection opened (with a snapshot or `resumed`); `again` after a reconnect. */
  ready(again: boolean): void;
  /** A connection dropped after it was ready: answers to what was sent on it may never come. */
  dropped(): void;
  /** Reconnecting cannot help: exit with `code`, saying `message`. */
  fatal(code: number, message: string): void;
  /** Something worth a line on stderr. */
  note(message: string): void;
}

/** The id of the client's own heartbeat pings, so their pongs can be told from answers to the user's. */
export const HEARTBEAT_PING_ID = 'liveorders-watch:heartbeat';
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** How much of an unreadable message or a refusal's body to quote. */
const QUOTE_LENGTH = 120;

/** A WebSocket to the stream that reconnects and resumes by itself. */
export class StreamConnection {
  readonly #options: ConnectionOptions;
  readonly #handler: ConnectionHandler;
  #ws: WebSocket | undefined;
  #view: View;
  #limit: number | undefined;
  #epoch: string | undefined;
  #lastSeq = 0;
  #ready = false;
  #readyOnce = false;
  #attempt = 0;
  #stopped = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  /** Whether anything arrived since the last heartbeat ping. */
  #heard = true;
  /** The last socket error, for saying why a reconnect attempt failed. */
  #lastError: NodeJS.ErrnoException | undefined;

  constructor(options: ConnectionOptions, handler: ConnectionHandler) {
    this.#options = options;
    this.#handler = handler;
    this.#view = options.view;
    this.#limit = options.limit;
  }

  /** Connect (once; later connections are made by the reconnect logic). */
  start(): void {
    this.#connect();
  }

  /**
   * Send a message on the open connection.
   * @returns false when there is none (the caller keeps the message for later)
   */
  send(message: ClientMessage): boolean {
    if (!this.#ready || this.#ws?.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(encodeClientMessage(message));
    return true;
  }

  /** Stop: no more messages, no reconnects; closes the socket politely when it is open. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#heartbeat);
    const ws = this.#ws;
    if (ws !== undefined && ws.readyState === WebSocket.OPEN) ws.close(1000);
    else ws?.terminate();
  }

  #connect(): void {
    const headers = this.#options.token === undefined ? {} : { Authorization: `Bearer ${this.#options.token}` };
    const ws = new WebSocket(this.#socketUrl(), { perMessageDeflate: false, handshakeTimeout: HANDSHAKE_TIMEOUT_MS, headers });
    this.#ws = ws;
    this.#lastError = undefined;
    ws.on('unexpected-response', (_req: ClientRequest, res: IncomingMessage) => this.#onRefused(res));
    ws.on('error', (error: NodeJS.ErrnoException) => this.#onError(ws, error));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary && ws === this.#ws) this.#onFrame(data.toString());
    });
    ws.on('close', (code: number, reason: Buffer) => this.#onClose(ws, code, reason.toString()));
  }

  #socketUrl(): string {
    const url = new URL(this.#options.url);
    const { statuses, orderId } = this.#view;
    if (statuses !== undefined) url.searchParams.set('status', statuses.join(','));
    if (orderId !== undefined) url.searchParams.set('order', orderId);
    if (this.#options.track !== undefined) url.searchParams.set('track', this.#options.track);
    if (this.#limit !== undefined) url.searchParams.set('limit', String(this.#limit));
    if (this.#epoch !== undefined) {
      url.searchParams.set('since', String(this.#lastSeq));
      url.searchParams.set('epoch', this.#epoch);
    }
    return url.toString();
  }

  #onFrame(text: string): void {
    if (this.#stopped) return;
    this.#heard = true;
    const parsed = parseServerMessage(text);
    if (!parsed.ok) {
      this.#handler.note(`ignored a message this client does not understand: ${text.slice(0, QUOTE_LENGTH)}`);
      return;
    }
    const message = parsed.value;
    switch (message.type) {
      case 'snapshot':
        this.#epoch = message.epoch;
        this.#lastSeq = message.seq;
        // Later snapshots answer a subscribe: their view is the one to resume with after a reconnect.
        // (A tracking socket's view is its order, whatever the URL says: its URL stays as it was.)
        if (this.#options.track === undefined) {
          this.#view = message.view;
          this.#limit = message.limit;
        }
        return this.#deliver(message, text);
      case 'resumed':
        this.#epoch = message.epoch;
        return this.#deliver(message, text);
      case 'events': {
        const fresh = message.events.filter((e) => e.seq > this.#lastSeq);
        if (fresh.length > 0) this.#lastSeq = fresh.at(-1)!.seq;
        this.#handler.message(fresh.length === message.events.length ? message : { type: 'events', events: fresh }, text);
        return;
      }
      default:
        this.#handler.message(message, text);
    }
  }

  /** A snapshot or `resumed`: the first on a connection makes it ready. */
  #deliver(message: ServerMessage, text: string): void {
    if (this.#ready) return this.#handler.message(message, text);
    this.#ready = true;
    const again = this.#readyOnce;
    this.#readyOnce = true;
    this.#attempt = 0;
    if (again) this.#noteReconnected(message);
    this.#startHeartbeat();
    this.#handler.message(message, text);
    this.#handler.ready(again);
  }

  #onRefused(res: IncomingMessage): void {
    const refused = (detail: string): void => this.#fail(EXIT.rejected, `the server refused the connection: ${res.statusCode} ${res.statusMessage ?? ''}${detail}`);
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (body += chunk.slice(0, 500)));
    res.on('end', () => refused(body.trim() === '' ? '' : `: ${body.trim()}`));
    res.on('error', () => refused(''));
  }

  #onError(ws: WebSocket, error: NodeJS.ErrnoException): void {
    if (ws === this.#ws) this.#lastError = error;
    // Once connected, a failure only means "try again": 'close' follows and schedules it.
    if (this.#readyOnce || this.#stopped) return;
    const url = this.#options.url.toString();
    if (error.code === 'ECONNREFUSED') {
      return this.#fail(EXIT.unreachable, `cannot connect to ${url}: connection refused, nothing is listening there. Is the server running? Start it with: npm start`);
    }
    if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') {
      return this.#fail(EXIT.unreachable, `cannot connect to ${url}: unknown host "${this.#options.url.hostname}"`);
    }
    this.#fail(EXIT.unreachable, `cannot connect to ${url}: ${error.message}`);
  }

  /**
   * A server (or network) that silently stopped answering sends no close: ping
   * it, and when a whole interval passes without hearing anything, reconnect.
   */
  #startHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heard = true;
    const ws = this.#ws;
    if (ws === undefined) return;
    this.#heartbeat = setInterval(() => {
      if (ws !== this.#ws || ws.readyState !== WebSocket.OPEN) return;
      if (!this.#heard) {
        clearInterval(this.#heartbeat);
        this.#handler.note(`no answer from the server for ${this.#options.heartbeatSeconds}s`);
        ws.terminate(); // 'close' follows and reconnects
        return;
      }
      this.#heard = false;
      ws.send(encodeClientMessage({ type: 'ping', id: HEARTBEAT_PING_ID }));
    }, this.#options.heartbeatSeconds * 1000);
  }

  #onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.#ws) return;
    clearInterval(this.#heartbeat);
    const wasReady = this.#ready;
    this.#ready = false;
    if (this.#stopped || !this.#readyOnce) return;
    if (wasReady) this.#handler.dropped();
    // The token was revoked (the server's tokens were reloaded): reconnecting with it cannot work.
    if (code === CLOSE_CODES.policyViolation) return this.#fail(EXIT.rejected, `the server closed the connection: ${reason === '' ? 'token revoked' : reason}`);
    const delay = backoffDelay(this.#attempt);
    this.#attempt++;
    this.#handler.note(`${this.#whyClosed(code, reason)}; reconnecting in ${(delay / 1000).toFixed(1)}s (attempt ${this.#attempt})`);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  /** Why a connection ended, in words: a refused reconnect is not a lost connection (1006). */
  #whyClosed(code: number, reason: string): string {
    const url = this.#options.url.toString();
    switch (this.#lastError?.code) {
      case 'ECONNREFUSED':
        return `cannot connect to ${url}: connection refused`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return `cannot connect to ${url}: unknown host "${this.#options.url.hostname}"`;
      case 'ETIMEDOUT':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return `cannot connect to ${url}: ${this.#lastError.code}`;
      default:
        if (code === CLOSE_CODES.goingAway) return 'the server is shutting down';
        return `connection lost (${code}${reason === '' ? '' : ` ${reason}`})`;
    }
  }

  #noteReconnected(message: ServerMessage): void {
    if (message.type === 'resumed') {
      const missed = message.seq - message.since;
      this.#handler.note(`reconnected; resuming after seq ${message.since} (${missed} event${missed === 1 ? '' : 's'} since)`);
    } else {
      this.#handler.note('reconnected; the server restarted or too much was missed to replay: here is a fresh snapshot');
    }
  }

  #fail(code: number, message: string): void {
    if (this.#stopped) return;
    this.#handler.fatal(code, message);
  }
}
