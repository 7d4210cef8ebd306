/**
 * @module cli/connection
 * The terminal client's WebSocket: the shared stream core (client/stream/)
 * over `ws`, so it reconnects with backoff and resumes from the last seq it
 * delivered (`?since=SEQ&epoch=EPOCH`) and its owner sees every event exactly
 * once, in order, across reconnects. What is the terminal's own: the view
 * it asks for, a line on stderr for each reconnect, when to give up, and
 * where a fresh token comes from (`--token-command`).
 */

import { EXIT } from './args.ts';
import { wsSockets } from './ws-socket.ts';
import { ResumingStream, type ResumePoint, type StreamCredential } from '../client/stream/resuming-stream.ts';
import type { SocketClose } from '../client/stream/socket.ts';
import { tokenExpiresAt } from '../client/stream/token-expiry.ts';
import { runTokenCommand } from './token-command.ts';
import { CLOSE_CODES, type ClientMessage, type ResumedMessage, type ServerMessage, type SnapshotMessage, type View } from '../src/protocol.ts';

/** Where to connect and what to ask for. */
export interface ConnectionOptions {
  readonly url: URL;
  readonly token?: string;
  /** Prints a fresh token: run at start without `token`, before the token expires, and after a 4001. */
  readonly tokenCommand?: string;
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
/** How much of an unreadable message to quote. */
const QUOTE_LENGTH = 120;

/** A WebSocket to the stream that reconnects and resumes by itself. */
export class StreamConnection {
  readonly #options: ConnectionOptions;
  readonly #handler: ConnectionHandler;
  readonly #stream: ResumingStream;
  #view: View;
  #limit: number | undefined;
  /** How the last connection ended, for the reconnect note. */
  #lastClose: SocketClose | undefined;
  /** Set by the core's `ready`, told to the owner once the message that made it ready was handled. */
  #readyAgain: boolean | undefined;
  /** The access token the next attempt (and a refresh) carries. */
  #token: string | undefined;

  constructor(options: ConnectionOptions, handler: ConnectionHandler) {
    this.#options = options;
    this.#handler = handler;
    this.#view = options.view;
    this.#limit = options.limit;
    this.#token = options.token;
    const credential: StreamCredential = { expiresAt: () => tokenExpiresAt(this.#token), renew: (reason) => this.#renew(reason) };
    this.#stream = new ResumingStream(
      {
        url: (resume) => this.#socketUrl(resume),
        openSocket: wsSockets(() => this.#token),
        heartbeatMs: options.heartbeatSeconds * 1000,
        pingId: HEARTBEAT_PING_ID,
        ...(options.tokenCommand === undefined ? {} : { credential }),
      },
      {
        message: (message, raw) => this.#onMessage(message, raw),
        ready: (again, first) => this.#onReady(again, first),
        dropped: () => handler.dropped(),
        closed: (close, everReady) => this.#onClosed(close, everReady),
        status: (status) => {
          if (status.kind === 'waiting') this.#noteRetry(status.retryAt - Date.now(), status.attempt);
        },
        silent: () => handler.note(`no answer from the server for ${options.heartbeatSeconds}s`),
        unreadable: (text) => handler.note(`ignored a message this client does not understand: ${text.slice(0, QUOTE_LENGTH)}`),
        renewFailed: (why) => handler.note(`could not refresh the token: ${why}`),
      },
    );
  }

  /** Connect (once; later connections are made by the reconnect logic). Without a token but with a command, it runs first. */
  start(): void {
    if (this.#token !== undefined || this.#options.tokenCommand === undefined) return this.#stream.start();
    void runTokenCommand(this.#options.tokenCommand).then((token) => {
      if (!token.ok) return this.#handler.fatal(EXIT.rejected, token.error);
      this.#token = token.value;
      this.#stream.start();
    });
  }

  /** A fresh token from `--token-command`, kept for every later attempt. */
  async #renew(reason: 'expiring' | 'expired'): Promise<string | undefined> {
    if (this.#options.tokenCommand === undefined) return undefined;
    if (reason === 'expired') this.#handler.note('the token expired; getting a fresh one with --token-command');
    const token = await runTokenCommand(this.#options.tokenCommand);
    if (!token.ok) {
      this.#handler.note(token.error);
      return undefined;
    }
    this.#token = token.value;
    return token.value;
  }

  /**
   * Send a message on the open connection.
   * @returns false when there is none, or it has not had its snapshot yet (the caller keeps the message for later)
   */
  send(message: ClientMessage): boolean {
    return this.#stream.ready && this.#stream.send(message);
  }

  /** Stop: no more messages, no reconnects; closes the socket politely when it is open. */
  stop(): void {
    this.#stream.stop();
  }

  #socketUrl(resume: ResumePoint | undefined): string {
    const url = new URL(this.#options.url);
    const { statuses, orderId } = this.#view;
    if (statuses !== undefined) url.searchParams.set('status', statuses.join(','));
    if (orderId !== undefined) url.searchParams.set('order', orderId);
    if (this.#options.track !== undefined) url.searchParams.set('track', this.#options.track);
    if (this.#limit !== undefined) url.searchParams.set('limit', String(this.#limit));
    if (resume !== undefined) {
      url.searchParams.set('since', String(resume.since));
      url.searchParams.set('epoch', resume.epoch);
    }
    return url.toString();
  }

  #onMessage(message: ServerMessage, raw: string): void {
    // Later snapshots answer a subscribe: their view is the one to resume with after a reconnect.
    // (A tracking socket's view is its order, whatever the URL says: its URL stays as it was.)
    if (message.type === 'snapshot' && this.#options.track === undefined) {
      this.#view = message.view;
      this.#limit = message.limit;
    }
    this.#handler.message(message, raw);
    const again = this.#readyAgain;
    if (again === undefined) return;
    this.#readyAgain = undefined;
    this.#handler.ready(again);
  }

  #onReady(again: boolean, first: SnapshotMessage | ResumedMessage): void {
    this.#readyAgain = again;
    if (!again) return;
    if (first.type === 'resumed') {
      const missed = first.seq - first.since;
      this.#handler.note(`reconnected; resuming after seq ${first.since} (${missed} event${missed === 1 ? '' : 's'} since)`);
    } else {
      this.#handler.note('reconnected; the server restarted or too much was missed to replay: here is a fresh snapshot');
    }
  }

  /** Whether to reconnect: not after a refused upgrade, a first attempt that failed, or a revoked token. */
  #onClosed(close: SocketClose, everReady: boolean): boolean {
    this.#lastClose = close;
    const { refused } = close;
    if (refused !== undefined) {
      this.#handler.fatal(EXIT.rejected, `the server refused the connection: ${refused.status} ${refused.statusText}${refused.body === '' ? '' : `: ${refused.body}`}`);
      return false;
    }
    if (!everReady) {
      this.#handler.fatal(EXIT.unreachable, this.#firstFailure(close));
      return false;
    }
    // The token was revoked (the server's tokens were reloaded): reconnecting with it cannot work.
    if (close.code === CLOSE_CODES.policyViolation) {
      this.#handler.fatal(EXIT.rejected, `the server closed the connection: ${close.reason === '' ? 'token revoked' : close.reason}`);
      return false;
    }
    // Expired: with --token-command the core gets a fresh token and resumes; without, there is no way on.
    if (close.code === CLOSE_CODES.tokenExpired && this.#options.tokenCommand === undefined) {
      this.#handler.fatal(EXIT.rejected, 'the server closed the connection: the token expired (pass --token-command to get fresh ones)');
      return false;
    }
    return true;
  }

  /** Why the very first attempt failed, with what to do about it. */
  #firstFailure(close: SocketClose): string {
    const url = this.#options.url.toString();
    switch (close.error?.code) {
      case 'ECONNREFUSED':
        return `cannot connect to ${url}: connection refused, nothing is listening there. Is the server running? Start it with: npm start`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return `cannot connect to ${url}: unknown host "${this.#options.url.hostname}"`;
      default:
        return `cannot connect to ${url}: ${close.error?.message ?? `the connection closed before the server said anything (${close.code})`}`;
    }
  }

  #noteRetry(delayMs: number, attempt: number): void {
    this.#handler.note(`${this.#whyClosed(this.#lastClose)}; reconnecting in ${(Math.max(0, delayMs) / 1000).toFixed(1)}s (attempt ${attempt})`);
  }

  /** Why a connection ended, in words: a refused reconnect is not a lost connection (1006). */
  #whyClosed(close: SocketClose | undefined): string {
    const url = this.#options.url.toString();
    const code = close?.code ?? 1006;
    const reason = close?.reason ?? '';
    switch (close?.error?.code) {
      case 'ECONNREFUSED':
        return `cannot connect to ${url}: connection refused`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return `cannot connect to ${url}: unknown host "${this.#options.url.hostname}"`;
      case 'ETIMEDOUT':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return `cannot connect to ${url}: ${close.error.code}`;
      default:
        if (code === CLOSE_CODES.goingAway) return 'the server is shutting down';
        return `connection lost (${code}${reason === '' ? '' : ` ${reason}`})`;
    }
  }
}
