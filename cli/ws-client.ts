/**
 * @module cli/ws-client
 * The terminal client: prints the snapshot and then every event, reconnects
 * with backoff and resumes from the last seq it saw (so nothing is printed
 * twice or missed), and exits with codes scripts can test. See `--help`.
 */

import type { ClientRequest, IncomingMessage } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { EXIT, HELP, parseWatchArgs, type WatchOptions } from './args.ts';
import { formatEvent, formatOrder, formatSnapshot } from './format.ts';
import { backoffDelay } from '../src/backoff.ts';
import {
  ALLOWED_TRANSITIONS,
  CLOSE_CODES,
  encodeClientMessage,
  parseServerMessage,
  type Order,
  type OrderEvent,
  type ServerMessage,
  type SnapshotMessage,
} from '../src/protocol.ts';

/** Where output goes (the process's streams, or captures). */
export interface WatchIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

const NAME = 'liveorders-watch';

/**
 * Run the client until it is done; resolves with the exit code.
 * @param options validated options
 * @param io output streams
 * @param signal aborting it (Ctrl-C) ends the run with code 0
 */
export function runWatch(options: WatchOptions, io: WatchIo, signal?: AbortSignal): Promise<number> {
  return new Watch(options, io, signal).run();
}

class Watch {
  readonly #options: WatchOptions;
  readonly #io: WatchIo;
  readonly #signal: AbortSignal | undefined;
  #ws: WebSocket | undefined;
  #serverId: string | undefined;
  #lastSeq = 0;
  #connectedOnce = false;
  #attempt = 0;
  #events = 0;
  #sent = false;
  #finished = false;
  #resolve: (code: number) => void = () => undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #timeoutTimer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  /** Whether anything arrived since the last heartbeat ping. */
  #heard = true;

  constructor(options: WatchOptions, io: WatchIo, signal: AbortSignal | undefined) {
    this.#options = options;
    this.#io = io;
    this.#signal = signal;
  }

  run(): Promise<number> {
    return new Promise((resolve) => {
      this.#resolve = resolve;
      if (this.#signal?.aborted) return this.#finish(EXIT.ok);
      this.#signal?.addEventListener('abort', () => this.#finish(EXIT.ok), { once: true });
      this.#armTimeout();
      this.#connect();
    });
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

  #connect(): void {
    const headers = this.#options.token === undefined ? {} : { Authorization: `Bearer ${this.#options.token}` };
    const ws = new WebSocket(this.#socketUrl(), { perMessageDeflate: false, handshakeTimeout: 10_000, headers });
    this.#ws = ws;
    ws.on('unexpected-response', (_req: ClientRequest, res: IncomingMessage) => this.#onRefused(res));
    ws.on('error', (error: NodeJS.ErrnoException) => this.#onError(error));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.#onFrame(data.toString());
    });
    ws.on('close', (code: number, reason: Buffer) => this.#onClose(ws, code, reason.toString()));
  }

  #socketUrl(): string {
    const url = new URL(this.#options.url);
    const o = this.#options;
    if (o.statuses !== undefined) url.searchParams.set('status', o.statuses.join(','));
    if (o.orderId !== undefined) url.searchParams.set('order', o.orderId);
    if (o.track !== undefined) url.searchParams.set('track', o.track);
    const limit = o.limit ?? (o.send === undefined ? undefined : 1);
    if (limit !== undefined) url.searchParams.set('limit', String(limit));
    if (this.#serverId !== undefined) {
      url.searchParams.set('since', String(this.#lastSeq));
      url.searchParams.set('server', this.#serverId);
    }
    return url.toString();
  }

  #onFrame(text: string): void {
    if (this.#finished) return;
    this.#heard = true;
    const parsed = parseServerMessage(text);
    if (!parsed.ok) {
      this.#note(`ignored a message this client does not understand: ${text.slice(0, 120)}`);
      return;
    }
    const message = parsed.value;
    if (message.type === 'snapshot' || message.type === 'resumed') {
      if (this.#connectedOnce) this.#noteReconnected(message);
      this.#connectedOnce = true;
      this.#attempt = 0;
      this.#startHeartbeat();
    }
    this.#handle(message, text);
  }

  #handle(message: ServerMessage, raw: string): void {
    const o = this.#options;
    switch (message.type) {
      case 'snapshot':
        this.#serverId = message.serverId;
        this.#lastSeq = message.seq;
        if (o.send !== undefined) return this.#sendOnce();
        this.#print(raw, () => formatSnapshot(message, o));
        if (o.once) return this.#finish(EXIT.ok);
        this.#checkUntil(message.orders.find((order) => order.id === o.orderId), message);
        return;
      case 'resumed':
        this.#serverId = message.serverId;
        if (o.json && o.send === undefined) this.#write(raw);
        return;
      case 'events':
        return this.#onEvents(message.events, raw);
      case 'ack':
        this.#print(raw, () => formatOrder(message.order, o));
        return this.#finish(EXIT.ok);
      case 'pong':
        if (o.send?.type === 'ping') {
          this.#print(raw, () => `pong${message.id === undefined ? '' : ` ${message.id}`}`);
          this.#finish(EXIT.ok);
        }
        return;
      case 'error': {
        if (o.json) this.#write(raw);
        const fields = (message.errors ?? []).map((e) => `${e.field} ${e.message}`).join('; ');
        return this.#finish(EXIT.serverError, `the server refused: ${message.code}: ${message.message}${fields === '' ? '' : ` (${fields})`}`);
      }
    }
  }

  #onEvents(events: readonly OrderEvent[], raw: string): void {
    const fresh = events.filter((e) => e.seq > this.#lastSeq);
    if (fresh.length === 0) return; // already printed before a reconnect
    this.#lastSeq = fresh.at(-1)!.seq;
    if (this.#options.send !== undefined) return;
    if (this.#options.timeoutSeconds !== undefined && !this.#hasGoal()) this.#armTimeout();
    if (this.#options.json) this.#write(raw);
    for (const event of fresh) {
      if (!this.#options.json) this.#write(formatEvent(event, this.#options));
      this.#events++;
      if (this.#options.count !== undefined && this.#events >= this.#options.count) return this.#finish(EXIT.ok);
      if (event.order.id === this.#options.orderId) {
        if (event.type === 'order.deleted') return this.#finish(EXIT.failure, `order ${event.order.id} was deleted`);
        this.#checkUntil(event.order);
        if (this.#finished) return;
      }
    }
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

  #sendOnce(): void {
    if (this.#sent || this.#options.send === undefined) return;
    this.#sent = true;
    this.#ws?.send(encodeClientMessage(this.#options.send));
  }

  #onRefused(res: IncomingMessage): void {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (body += chunk.slice(0, 500)));
    res.on('end', () => this.#finish(EXIT.rejected, `the server refused the connection: ${res.statusCode} ${res.statusMessage ?? ''}${body.trim() === '' ? '' : `: ${body.trim()}`}`));
    res.on('error', () => this.#finish(EXIT.rejected, `the server refused the connection: ${res.statusCode}`));
  }

  #onError(error: NodeJS.ErrnoException): void {
    // After the first snapshot a failure only means "try again": 'close' follows and schedules it.
    if (this.#connectedOnce || this.#finished) return;
    const url = this.#options.url.toString();
    if (error.code === 'ECONNREFUSED') {
      return this.#finish(EXIT.unreachable, `cannot connect to ${url}: nothing is listening there. Is the server running? Start it with: npm start`);
    }
    if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') {
      return this.#finish(EXIT.unreachable, `cannot connect to ${url}: unknown host "${this.#options.url.hostname}"`);
    }
    this.#finish(EXIT.unreachable, `cannot connect to ${url}: ${error.message}`);
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
        this.#note(`no answer from the server for ${this.#options.heartbeatSeconds}s`);
        ws.terminate(); // 'close' follows and reconnects
        return;
      }
      this.#heard = false;
      ws.send(encodeClientMessage({ type: 'ping' }));
    }, this.#options.heartbeatSeconds * 1000);
  }

  #onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws === this.#ws) clearInterval(this.#heartbeat);
    if (this.#finished || ws !== this.#ws || !this.#connectedOnce) return;
    // The token was revoked (the server's tokens were reloaded): reconnecting with it cannot work.
    if (code === CLOSE_CODES.policyViolation) return this.#finish(EXIT.rejected, `the server closed the connection: ${reason === '' ? 'token revoked' : reason}`);
    const delay = backoffDelay(this.#attempt);
    this.#attempt++;
    const why = code === 1001 ? 'the server is shutting down' : `connection lost (${code}${reason === '' ? '' : ` ${reason}`})`;
    this.#note(`${why}; reconnecting in ${(delay / 1000).toFixed(1)}s (attempt ${this.#attempt})`);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  #noteReconnected(message: SnapshotMessage | Extract<ServerMessage, { type: 'resumed' }>): void {
    if (message.type === 'resumed') {
      const missed = message.seq - message.since;
      this.#note(`reconnected; resuming after seq ${message.since} (${missed} event${missed === 1 ? '' : 's'} since)`);
    } else {
      this.#note('reconnected; the server restarted or too much was missed to replay: here is a fresh snapshot');
    }
  }

  #print(raw: string, human: () => string): void {
    this.#write(this.#options.json ? raw : human());
  }

  #write(line: string): void {
    this.#io.stdout.write(`${line}\n`);
  }

  #note(message: string): void {
    this.#io.stderr.write(`${NAME}: ${message}\n`);
  }

  #finish(code: number, message?: string): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#timeoutTimer);
    clearInterval(this.#heartbeat);
    if (message !== undefined) this.#note(message);
    const ws = this.#ws;
    if (ws !== undefined && ws.readyState === WebSocket.OPEN) ws.close(1000);
    else ws?.terminate();
    this.#resolve(code);
  }
}

/** Entry point: parse argv, run, exit with the code. */
export async function main(): Promise<void> {
  const parsed = parseWatchArgs(process.argv.slice(2), process.env, process.stdout.isTTY === true);
  if (!parsed.ok) {
    process.stderr.write(`${NAME}: ${parsed.error}\nRun with --help for usage.\n`);
    process.exit(EXIT.usage);
  }
  if (parsed.value.help) {
    process.stdout.write(HELP);
    return;
  }
  // A closed pipe (`| head`) is a normal way to stop reading.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => process.exit(error.code === 'EPIPE' ? EXIT.ok : EXIT.failure));
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  const code = await runWatch(parsed.value, { stdout: process.stdout, stderr: process.stderr }, abort.signal);
  // Let buffered output drain before exiting.
  process.stdout.write('', () => process.exit(code));
}

/** Run {@link main}, turning a crash into exit code 1 with the stack on stderr. */
export function runMain(): void {
  main().catch((error: unknown) => {
    process.stderr.write(`${NAME}: unexpected failure: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(EXIT.failure);
  });
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) runMain();
