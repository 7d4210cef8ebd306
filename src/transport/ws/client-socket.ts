/**
 * @module transport/ws/client-socket
 * The server's side of one WebSocket, as the hub and the session write to
 * it. Every message queued to the client, events and replies alike, goes
 * through {@link ClientSocket.send}, which is where the slow-consumer guard
 * lives: past the high-water mark the socket is dropped, whatever kind of
 * message filled it. Once the server decides to close a socket (slow,
 * flooding, token revoked, shutting down, a binary frame), it is no longer
 * `open`: nothing more is sent to it, and nothing it sends is acted on.
 */

import { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { OutgoingMessage } from '../../fanout/frame.ts';
import type { Subscriber } from '../../fanout/hub.ts';
import type { SentMessages } from '../../observe/sent-messages.ts';
import { CLOSE_CODES } from '../../protocol.ts';

/** Default {@link ClientSocketOptions.highWaterMark}, in bytes. */
export const DEFAULT_HIGH_WATER_MARK = 4 * 1024 * 1024;

/** Settings shared by every {@link ClientSocket}. */
export interface ClientSocketOptions {
  /**
   * A socket with more than this many bytes queued is closed with 1013 at
   * the next message for it (it reads too slowly; it can reconnect and
   * resume). In bytes.
   */
  readonly highWaterMark: number;
  /** After a close frame is sent, how long the peer has before the socket is destroyed, in milliseconds. */
  readonly closeGraceMs: number;
  /** Told when a socket is dropped as too slow, with the bytes it held. */
  readonly onSlow: (bufferedAmount: number) => void;
  /** Counts each message sent, by type (the metrics). @default not counted */
  readonly sent?: SentMessages;
}

/** What a session writes to: a hub subscriber that can also be closed, and says whether it is still open. */
export interface SessionSocket extends Subscriber {
  /** False once the server decided to close the connection. */
  readonly open: boolean;
  /**
   * Queue a message; see {@link Subscriber.send}.
   * @param onWritten called once the message has left for the network (or could not)
   */
  send(message: OutgoingMessage, onWritten?: (error?: Error | null) => void): boolean;
  /** Close with a WebSocket close code; the socket is destroyed if the peer does not answer in time. */
  close(code: number, reason: string): void;
}

/**
 * One client connection. A message framed once for many sockets is written
 * as is to the TCP socket (saving `ws` a frame header and a write per
 * socket); anything else goes through `ws` as a text frame. A class rather
 * than an object of closures: there is one per connection, and each named
 * closure costs a property table of its own under tsx (~256 bytes).
 */
export class ClientSocket implements SessionSocket {
  readonly #ws: WebSocket;
  readonly #raw: Socket | undefined;
  readonly #options: ClientSocketOptions;
  #closing = false;

  /**
   * @param ws the accepted WebSocket
   * @param options high-water mark and close grace
   */
  constructor(ws: WebSocket, options: ClientSocketOptions) {
    this.#ws = ws;
    this.#raw = rawSocket(ws);
    this.#options = options;
  }

  get open(): boolean {
    return !this.#closing && this.#ws.readyState === this.#ws.OPEN;
  }

  /** Bytes queued but not yet written to the network. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  send(message: OutgoingMessage, onWritten?: (error?: Error | null) => void): boolean {
    if (!this.open) return false;
    const buffered = this.#ws.bufferedAmount;
    if (buffered > this.#options.highWaterMark) {
      this.#options.onSlow(buffered);
      this.close(CLOSE_CODES.tryAgainLater, 'slow consumer: too far behind, reconnect to resume');
      return false;
    }
    if (message.frame !== undefined && this.#raw !== undefined) this.#raw.write(message.frame, onWritten ?? noCallback);
    else this.#ws.send(message.payload, { binary: false }, onWritten);
    this.#options.sent?.count(message.payload);
    return true;
  }

  close(code: number, reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    const ws = this.#ws;
    ws.close(code, reason);
    // A peer that stopped reading will never read the close frame either; do not keep its backlog.
    setTimeout(() => ws.terminate(), this.#options.closeGraceMs).unref();
  }
}

function noCallback(): void {}

/**
 * The TCP socket under a `ws` WebSocket, when frames may be written to it
 * directly: only without extensions (a compressed connection needs `ws` to
 * deflate each frame). `_socket` is internal to `ws`; if a future version
 * renames it, this returns undefined and every message goes through `ws.send`.
 */
function rawSocket(ws: WebSocket): Socket | undefined {
  if (ws.extensions !== '') return undefined;
  const socket = (ws as unknown as { _socket?: unknown })._socket;
  return socket instanceof Socket ? socket : undefined;
}
