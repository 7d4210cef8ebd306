/**
 * @module client/connection
 * The page's WebSocket: the shared stream core (client/stream/) over the
 * browser's `WebSocket`, plus what only a browser knows: whether it is
 * online, and when a tab becomes visible. A reconnect resumes where the
 * URL says: the board asks for `since` + `epoch` from the last seq it applied
 * while the orders it holds are of the view it wants (board-page.ts
 * `socketUrl`); otherwise, and on the tracking page (for one order a fresh
 * snapshot is as exact as a replay), it starts with a fresh snapshot.
 */

import { CLOSE_CODES, type ClientMessage, type ServerMessage } from '../src/protocol.ts';
import { browserSockets } from './stream/browser-socket.ts';
import { ResumingStream, type ConnectionStatus, type ResumePoint } from './stream/resuming-stream.ts';

export type { ConnectionStatus, ResumePoint } from './stream/resuming-stream.ts';

/** Options for {@link openConnection}. */
export interface ConnectionOptions {
  /**
   * Called before each attempt, so a reconnect asks for the page's current
   * view. `resume` is what the stream delivered last; a page that sets some
   * messages aside (a snapshot of a view it already left) resumes from what
   * it applied instead.
   */
  readonly url: (resume: ResumePoint | undefined) => string;
  /** Subprotocols to offer (a browser's only way to send a token with the upgrade). */
  readonly protocols: () => string[];
  readonly onMessage: (message: ServerMessage) => void;
  readonly onStatus: (status: ConnectionStatus) => void;
  /** A frame that did not decode; the connection goes on. */
  readonly onProtocolError?: (text: string) => void;
  /** The server closed the socket because its token was revoked (1008): reconnecting with it is pointless. */
  readonly onRevoked?: () => void;
  /**
   * The server closed the socket at its token's expiry (4001): resolve with a
   * fresh token (the person signs in again), used from then on; the stream
   * then reconnects and resumes where it was.
   */
  readonly renewToken?: () => Promise<string | undefined>;
}

/** How often the page pings, in milliseconds; a server silent for a whole interval after a ping is presumed gone. */
export const HEARTBEAT_MS = 15_000;

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
  const stream = new ResumingStream(
    {
      url: options.url,
      openSocket: browserSockets(options.protocols),
      heartbeatMs: HEARTBEAT_MS,
      online: () => navigator.onLine,
      // A person cannot be asked ahead of time without interrupting them: the page asks once the server closed at expiry.
      ...(options.renewToken === undefined ? {} : { credential: { expiresAt: () => undefined, renew: options.renewToken } }),
    },
    {
      message: (message) => options.onMessage(message),
      status: options.onStatus,
      closed: (close) => {
        if (close.code !== CLOSE_CODES.policyViolation || options.onRevoked === undefined) return true;
        options.onRevoked();
        return false;
      },
      ...(options.onProtocolError === undefined ? {} : { unreadable: options.onProtocolError }),
    },
  );
  window.addEventListener('online', () => stream.retryNow());
  // A tab becoming visible while waiting is a person looking at it: try now.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') stream.retryNow();
  });
  window.addEventListener('offline', () => stream.offline());
  stream.start();
  return {
    send: (message) => stream.send(message),
    retryNow: () => stream.retryNow(),
    close: () => stream.stop(),
  };
}
