/**
 * @module client/stream/socket
 * The little the stream core needs of a WebSocket, so the same core runs
 * over the browser's `WebSocket` (the page) and over `ws` (the CLI).
 */

/** How a socket ended (or failed to open). */
export interface SocketClose {
  /** The close code; 1006 when the connection was lost or never made. */
  readonly code: number;
  readonly reason: string;
  /** Why it failed, when the platform says (Node's `ECONNREFUSED`, say). */
  readonly error?: { readonly code?: string; readonly message: string };
  /** The server answered the upgrade with an HTTP refusal (401, 404, 503…). */
  readonly refused?: { readonly status: number; readonly statusText: string; readonly body: string };
}

/** What a socket tells the core; `close` comes exactly once, and nothing after it. */
export interface SocketListener {
  open(): void;
  /** A text frame (binary frames are not part of the protocol and are dropped). */
  message(text: string): void;
  close(close: SocketClose): void;
}

/** One connection attempt's socket. */
export interface StreamSocket {
  /** Whether it is open (messages can be sent). */
  readonly isOpen: boolean;
  send(text: string): void;
  /** Close politely when open; abandon the attempt otherwise. No `close` is reported after this. */
  close(): void;
  /** Drop it now, without a closing handshake (the peer went silent). No `close` is reported after this. */
  terminate(): void;
}

/**
 * Open a socket to `url`, reporting to `listener`.
 * @param url the WebSocket URL
 * @param listener what to tell
 */
export type OpenSocket = (url: string, listener: SocketListener) => StreamSocket;
