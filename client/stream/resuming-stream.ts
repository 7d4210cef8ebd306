/**
 * @module client/stream/resuming-stream
 * The one client connection core, for the page and the CLI: a WebSocket to
 * the order stream that decodes every frame, reconnects by itself with
 * backoff and jitter, resumes where it left off (`?since=SEQ&epoch=EPOCH`)
 * so its owner sees every event once, in order, across reconnects, pings so
 * that a silent server is noticed, keeps an expiring token fresh (a
 * `refresh` before it runs out; a fresh token and a reconnect after the
 * server closed with 4001), and reports where it stands. It knows
 * the socket only through {@link OpenSocket}: no DOM, no Node module.
 */

import { backoffDelay } from './backoff.ts';
import type { OpenSocket, SocketClose, StreamSocket } from './socket.ts';
import {
  CLOSE_CODES,
  encodeClientMessage,
  parseServerMessage,
  type ClientMessage,
  type ResumedMessage,
  type ServerMessage,
  type SnapshotMessage,
} from '../../src/protocol.ts';

/** Where the connection stands, for an indicator. */
export type ConnectionStatus =
  | { readonly kind: 'connecting'; readonly attempt: number }
  | { readonly kind: 'open' }
  | { readonly kind: 'waiting'; readonly retryAt: number; readonly attempt: number }
  | { readonly kind: 'offline' };

/** Where to resume: the last seq delivered, under its epoch. */
export interface ResumePoint {
  readonly since: number;
  readonly epoch: string;
}

/**
 * An attempt that fails within this many milliseconds of starting was refused
 * outright (nothing listening, say, during a server restart).
 */
export const FAST_FAILURE_MS = 2000;

/**
 * While attempts keep failing fast, the backoff stops growing at this attempt
 * (0.5 to 1 s, then 1 to 2 s): a refused attempt costs the server next to
 * nothing, and the client is back within a couple of seconds of the server.
 */
const FAST_FAILURE_ATTEMPT_CAP = 2;

/**
 * How long fast probing lasts: after this much time without a connection the
 * full backoff applies again, so a long outage (or a server refusing at its
 * connection limit, which also fails fast) is not probed every second by every client.
 */
export const FAST_PROBING_MS = 60_000;

/** The close code of a connection that was lost, or never made. */
const CONNECTION_LOST = 1006;

/** A token is renewed this long before it expires (or halfway, for a shorter-lived one), in milliseconds. */
export const RENEW_AHEAD_MS = 60_000;

/** The `requestId` of the stream's own `refresh` messages, so their answers are told from the owner's. */
export const REFRESH_REQUEST_ID = 'liveorders:refresh';

/** A bearer token that expires (an identity provider's), and how to get a fresh one. */
export interface StreamCredential {
  /** When the token in use expires, in milliseconds since 1970; undefined when it does not (or the owner does not renew ahead). */
  expiresAt(): number | undefined;
  /**
   * Get a fresh token, and use it for every later attempt.
   * @param reason `expiring`: the open socket is refreshed with it; `expired`: the server closed the socket with 4001, the next attempt carries it
   * @returns the token, or undefined when none could be had
   */
  renew(reason: 'expiring' | 'expired'): Promise<string | undefined>;
}

/** What the stream tells its owner, and asks it. */
export interface StreamHandler {
  /**
   * A decoded message. `events` messages carry only events not delivered
   * before (a replay after a resume can overlap), and none when all were.
   */
  message(message: ServerMessage, raw: string): void;
  /** Where the connection stands. */
  status?(status: ConnectionStatus): void;
  /** The first snapshot or `resumed` of a connection (handed to `message` right after); `again` after a reconnect. */
  ready?(again: boolean, first: SnapshotMessage | ResumedMessage): void;
  /** A ready connection was lost: answers to what was sent on it may never come. */
  dropped?(): void;
  /**
   * A connection ended (or an attempt failed). Return false to stop
   * reconnecting: the owner gives up, or waits for {@link ResumingStream.retryNow}.
   * @param close how it ended
   * @param everReady whether any connection of this stream was ready before
   */
  closed?(close: SocketClose, everReady: boolean): boolean;
  /** The server said nothing for a whole heartbeat interval after a ping: the socket is dropped and replaced. */
  silent?(): void;
  /** A frame that did not decode; the connection goes on. */
  unreadable?(text: string): void;
  /** A token could not be renewed, or the server refused the fresh one; the socket ends at the old expiry (4001). */
  renewFailed?(why: string): void;
}

/** Settings of a {@link ResumingStream}. */
export interface StreamOptions {
  /**
   * The URL of the next attempt, asked before each one so it carries the
   * owner's current view.
   * @param resume where to resume, once the stream has a position
   */
  readonly url: (resume: ResumePoint | undefined) => string;
  readonly openSocket: OpenSocket;
  /** How often to ping, in milliseconds; a server silent for a whole interval after a ping is presumed gone. */
  readonly heartbeatMs: number;
  /** The id of the heartbeat pings, so their pongs can be told from answers to the owner's own. */
  readonly pingId?: string;
  /** Whether the network is up (the browser knows); while it is not, no attempt is made. @default always */
  readonly online?: () => boolean;
  /** The token, when it expires: renewed ahead, and after a 4001. @default a token that does not expire */
  readonly credential?: StreamCredential;
}

/** A WebSocket to the order stream that reconnects and resumes by itself. */
export class ResumingStream {
  readonly #options: StreamOptions;
  readonly #handler: StreamHandler;
  #socket: StreamSocket | undefined;
  #epoch: string | undefined;
  #lastSeq = 0;
  /** Whether the current connection has had its snapshot (or `resumed`). */
  #ready = false;
  #everReady = false;
  #attempt = 0;
  #stopped = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set while a fresh token is awaited after a 4001: no attempt is made with the expired one. */
  #renewing = false;
  /** Whether anything arrived since the last heartbeat ping. */
  #heard = true;
  /** When the current attempt started, and when a connection was last ready (or the stream started). */
  #attemptStartedAt = 0;
  #lastReadyAt = Date.now();

  /**
   * @param options where and how to connect
   * @param handler what to tell
   */
  constructor(options: StreamOptions, handler: StreamHandler) {
    this.#options = options;
    this.#handler = handler;
  }

  /** Whether the current connection is open and has had its snapshot (or `resumed`). */
  get ready(): boolean {
    return this.#ready;
  }

  /** Where the next connection resumes, once the stream has a position. */
  get resumePoint(): ResumePoint | undefined {
    return this.#epoch === undefined ? undefined : { since: this.#lastSeq, epoch: this.#epoch };
  }

  /** Connect; later connections are made by the reconnect logic. */
  start(): void {
    this.#lastReadyAt = Date.now();
    this.#connect();
  }

  /**
   * Send a message if a socket is open.
   * @returns false when none is (the caller decides what to do)
   */
  send(message: ClientMessage): boolean {
    if (this.#stopped || this.#socket?.isOpen !== true) return false;
    this.#socket.send(encodeClientMessage(message));
    return true;
  }

  /** Skip the wait and connect now, unless a socket is open or opening. */
  retryNow(): void {
    if (this.#socket === undefined && !this.#stopped && !this.#renewing) this.#connect();
  }

  /** The network went away: drop the socket, make no attempt until {@link retryNow}. */
  offline(): void {
    if (this.#stopped) return;
    clearTimeout(this.#retryTimer);
    this.#drop((socket) => socket.close());
    this.#handler.status?.({ kind: 'offline' });
  }

  /** Stop for good: no more messages, no reconnects; the socket is closed politely when open. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#renewTimer);
    this.#drop((socket) => socket.close());
  }

  #connect(): void {
    clearTimeout(this.#retryTimer);
    if (this.#stopped) return;
    if (this.#options.online?.() === false) return this.#handler.status?.({ kind: 'offline' });
    this.#handler.status?.({ kind: 'connecting', attempt: this.#attempt });
    this.#attemptStartedAt = Date.now();
    const socket: StreamSocket = this.#options.openSocket(this.#options.url(this.resumePoint), {
      open: () => {
        if (socket === this.#socket) this.#startHeartbeat(socket);
      },
      message: (text) => {
        if (socket === this.#socket) this.#onFrame(text);
      },
      close: (close) => {
        if (socket === this.#socket) this.#onClose(close);
      },
    });
    this.#socket = socket;
  }

  #onFrame(text: string): void {
    this.#heard = true;
    const parsed = parseServerMessage(text);
    if (!parsed.ok) return this.#handler.unreadable?.(text);
    const message = parsed.value;
    switch (message.type) {
      case 'snapshot':
        // A reset (a resume that could not be honoured, or a new epoch after a restart) is a snapshot like any
        // other: it replaces the position, even with a lower seq.
        this.#epoch = message.epoch;
        this.#lastSeq = message.seq;
        return this.#deliver(message, text);
      case 'resumed':
        this.#epoch = message.epoch;
        return this.#deliver(message, text);
      case 'events': {
        const fresh = message.events.filter((e) => e.seq > this.#lastSeq);
        if (fresh.length > 0) this.#lastSeq = fresh.at(-1)!.seq;
        return this.#handler.message(fresh.length === message.events.length ? message : { type: 'events', events: fresh }, text);
      }
      case 'refreshed':
        // The answer to the stream's own refresh is nobody else's.
        if (message.requestId === REFRESH_REQUEST_ID) return;
        return this.#handler.message(message, text);
      case 'error':
        if (message.requestId === REFRESH_REQUEST_ID) return this.#handler.renewFailed?.(`the server refused the fresh token: ${message.message}`);
        return this.#handler.message(message, text);
      default:
        return this.#handler.message(message, text);
    }
  }

  /** A snapshot or `resumed`: the first on a connection makes it ready (only that proves the server is really back). */
  #deliver(message: SnapshotMessage | ResumedMessage, text: string): void {
    if (!this.#ready) {
      this.#ready = true;
      const again = this.#everReady;
      this.#everReady = true;
      this.#attempt = 0;
      this.#lastReadyAt = Date.now();
      this.#handler.status?.({ kind: 'open' });
      this.#armRenewal();
      this.#handler.ready?.(again, message);
    }
    this.#handler.message(message, text);
  }

  /**
   * A dead route or a hung server sends no close: ping in the protocol (a
   * browser answers protocol pings silently and never shows them), and when
   * a whole interval passes without hearing anything, drop the socket.
   */
  #startHeartbeat(socket: StreamSocket): void {
    clearInterval(this.#heartbeat);
    this.#heard = true;
    const ping = encodeClientMessage(this.#options.pingId === undefined ? { type: 'ping' } : { type: 'ping', id: this.#options.pingId });
    this.#heartbeat = setInterval(() => {
      if (socket !== this.#socket || !socket.isOpen) return;
      if (!this.#heard) {
        this.#handler.silent?.();
        this.#drop((silent) => silent.terminate());
        this.#onClose({ code: CONNECTION_LOST, reason: '' }, true);
        return;
      }
      this.#heard = false;
      socket.send(ping);
    }, this.#options.heartbeatMs);
  }

  /** Forget the current socket (its late events are ignored) and end it with `end`. */
  #drop(end: (socket: StreamSocket) => void): void {
    clearInterval(this.#heartbeat);
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket !== undefined) end(socket);
  }

  #onClose(close: SocketClose, dropped = false): void {
    if (!dropped) this.#drop(() => undefined);
    clearTimeout(this.#renewTimer);
    const wasReady = this.#ready;
    this.#ready = false;
    if (this.#stopped) return;
    if (wasReady) this.#handler.dropped?.();
    if (this.#handler.closed?.(close, this.#everReady) === false) return;
    const credential = this.#options.credential;
    if (close.code === CLOSE_CODES.tokenExpired && credential !== undefined) return void this.#reconnectWithFreshToken(credential);
    this.#scheduleRetry();
  }

  /**
   * Before the token in use expires, get a fresh one and refresh the open
   * socket with it: halfway through a short-lived token, {@link RENEW_AHEAD_MS}
   * ahead of a longer one.
   */
  #armRenewal(): void {
    clearTimeout(this.#renewTimer);
    const expiresAt = this.#options.credential?.expiresAt();
    if (expiresAt === undefined) return;
    const remaining = expiresAt - Date.now();
    this.#renewTimer = setTimeout(() => void this.#renewOpen(expiresAt), Math.max(0, remaining - Math.min(RENEW_AHEAD_MS, remaining / 2)));
  }

  async #renewOpen(expiring: number): Promise<void> {
    const credential = this.#options.credential!;
    let token: string | undefined;
    try {
      token = await credential.renew('expiring');
    } catch (error) {
      return this.#handler.renewFailed?.((error as Error).message);
    }
    if (this.#stopped || !this.#ready) return;
    const expiresAt = credential.expiresAt();
    // A token that lasts no longer is no refresh: the server closes at expiry, and a fresh one is asked for then.
    if (token === undefined || expiresAt === undefined || expiresAt <= expiring) return this.#handler.renewFailed?.('no later token could be had');
    this.send({ type: 'refresh', requestId: REFRESH_REQUEST_ID, token });
    this.#armRenewal();
  }

  /** The server closed the socket at the token's expiry (4001): get a fresh token, then reconnect (and resume) at once. */
  async #reconnectWithFreshToken(credential: StreamCredential): Promise<void> {
    this.#renewing = true;
    let token: string | undefined;
    try {
      token = await credential.renew('expired');
    } catch (error) {
      this.#handler.renewFailed?.((error as Error).message);
    } finally {
      this.#renewing = false;
    }
    if (this.#stopped) return;
    if (token === undefined) return this.#scheduleRetry();
    this.#connect();
  }

  #scheduleRetry(): void {
    if (this.#stopped) return;
    if (this.#options.online?.() === false) return this.#handler.status?.({ kind: 'offline' });
    const now = Date.now();
    const fastFailure = now - this.#attemptStartedAt < FAST_FAILURE_MS && now - this.#lastReadyAt < FAST_PROBING_MS;
    const delay = backoffDelay(fastFailure ? Math.min(this.#attempt, FAST_FAILURE_ATTEMPT_CAP) : this.#attempt);
    this.#attempt++;
    this.#handler.status?.({ kind: 'waiting', retryAt: now + delay, attempt: this.#attempt });
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }
}
