/**
 * @module client/connection
 * The page's WebSocket: decodes every frame with `parseServerMessage`,
 * reconnects by itself with exponential backoff and jitter, and reports its
 * status for the indicator. Every (re)connect starts with a fresh snapshot,
 * which is what puts the page back in sync.
 */

import { backoffDelay } from './backoff.ts';
import { CLOSE_CODES, encodeClientMessage, parseServerMessage, type ClientMessage, type ServerMessage } from '../src/protocol.ts';

/** What the indicator shows. */
export type ConnectionStatus =
  | { readonly kind: 'connecting'; readonly attempt: number }
  | { readonly kind: 'open' }
  | { readonly kind: 'waiting'; readonly retryAt: number; readonly attempt: number }
  | { readonly kind: 'offline' };

/** Options for {@link openConnection}. */
export interface ConnectionOptions {
  /** Called before each attempt, so a reconnect asks for the page's current view. */
  readonly url: () => string;
  /** Subprotocols to offer (a browser's only way to send a token with the upgrade). */
  readonly protocols: () => string[];
  readonly onMessage: (message: ServerMessage) => void;
  readonly onStatus: (status: ConnectionStatus) => void;
  /** A frame that did not decode; the connection goes on. */
  readonly onProtocolError?: (text: string) => void;
  /** The server closed the socket because its token was revoked (1008): reconnecting with it is pointless. */
  readonly onRevoked?: () => void;
}

/** How often the page pings, in milliseconds; a server silent for a whole interval after a ping is presumed gone. */
export const HEARTBEAT_MS = 15_000;

/**
 * An attempt that fails within this many milliseconds of starting was refused
 * outright (nothing listening, say, during a server restart).
 */
export const FAST_FAILURE_MS = 2000;

/**
 * While attempts keep failing fast, the backoff stops growing at this attempt
 * (0.5 to 1 s, then 1 to 2 s): a refused attempt costs the server next to
 * nothing, and the page is back within a couple of seconds of the server.
 */
const FAST_FAILURE_ATTEMPT_CAP = 2;

/**
 * How long fast probing lasts: after this much time without a connection the
 * full backoff applies again, so a long outage (or a server refusing at its
 * connection limit, which also fails fast) is not probed every second by every tab.
 */
export const FAST_PROBING_MS = 60_000;

/** A self-healing connection. */
export interface Connection {
  /** Send if open; returns false when not connected (the caller decides what to do). */
  send(message: ClientMessage): boolean;
  /** Skip the wait and reconnect now. */
  retryNow(): void;
  /** Close for good: no more reconnects (the page has nothing more to follow). */
  close(): void;
}

/**
 * Open the page's WebSocket and keep it open.
 * @param options URL, handlers
 */
export function openConnection(options: ConnectionOptions): Connection {
  let socket: WebSocket | undefined;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  /** When the current attempt started, and when the page was last connected (or first tried). */
  let attemptStartedAt = 0;
  let lastConnectedAt = Date.now();

  const connect = (): void => {
    clearTimeout(retryTimer);
    if (closed) return;
    if (!navigator.onLine) {
      options.onStatus({ kind: 'offline' });
      return;
    }
    options.onStatus({ kind: 'connecting', attempt });
    attemptStartedAt = Date.now();
    const ws = new WebSocket(options.url(), options.protocols());
    socket = ws;
    heard = true;
    ws.addEventListener('message', (event: MessageEvent<unknown>) => {
      heard = true;
      if (typeof event.data !== 'string') return;
      const parsed = parseServerMessage(event.data);
      if (!parsed.ok) {
        options.onProtocolError?.(event.data);
        return;
      }
      if (parsed.value.type === 'snapshot' || parsed.value.type === 'resumed') {
        attempt = 0; // only a snapshot (or a resume) proves the server is really back
        lastConnectedAt = Date.now();
        options.onStatus({ kind: 'open' });
      }
      options.onMessage(parsed.value);
    });
    ws.addEventListener('close', (event: CloseEvent) => {
      if (socket !== ws) return;
      socket = undefined;
      if (event.code === CLOSE_CODES.policyViolation && options.onRevoked !== undefined) options.onRevoked();
      else scheduleRetry();
    });
  };

  // Browsers answer protocol pings silently and never expose them, so the page
  // pings in the protocol: a dead route or hung server sends no close event.
  let heard = true;
  setInterval(() => {
    const ws = socket;
    if (ws?.readyState !== WebSocket.OPEN) return;
    if (!heard) {
      socket = undefined; // this socket's late 'close' is ignored
      ws.close();
      scheduleRetry();
      return;
    }
    heard = false;
    ws.send(encodeClientMessage({ type: 'ping' }));
  }, HEARTBEAT_MS);

  const scheduleRetry = (): void => {
    if (!navigator.onLine) {
      options.onStatus({ kind: 'offline' });
      return;
    }
    if (closed) return;
    const now = Date.now();
    const fastFailure = now - attemptStartedAt < FAST_FAILURE_MS && now - lastConnectedAt < FAST_PROBING_MS;
    const delay = backoffDelay(fastFailure ? Math.min(attempt, FAST_FAILURE_ATTEMPT_CAP) : attempt);
    attempt++;
    options.onStatus({ kind: 'waiting', retryAt: Date.now() + delay, attempt });
    retryTimer = setTimeout(connect, delay);
  };

  window.addEventListener('online', () => {
    if (socket === undefined && !closed) connect();
  });
  // A tab coming back into view while waiting is a person looking at it: try now.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && socket === undefined && !closed) connect();
  });
  window.addEventListener('offline', () => {
    clearTimeout(retryTimer);
    socket?.close();
    options.onStatus({ kind: 'offline' });
  });
  connect();

  return {
    send(message) {
      if (socket?.readyState !== WebSocket.OPEN) return false;
      socket.send(encodeClientMessage(message));
      return true;
    },
    retryNow() {
      if (socket === undefined) connect();
    },
    close() {
      closed = true;
      clearTimeout(retryTimer);
      const ws = socket;
      socket = undefined; // its 'close' event then schedules nothing
      ws?.close();
    },
  };
}
