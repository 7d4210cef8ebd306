/**
 * Test helpers: a real server on an ephemeral port, a capturing logger, and a
 * WebSocket client that queues parsed server messages so tests can await them.
 */

import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { createLogger, type Logger } from '../src/support/logger.ts';
import { parseServerMessage, type CreatedOrder, type Order, type OrderEvent, type ServerMessage } from '../src/protocol.ts';
import { createServer, type LiveOrdersServer, type ServerOptions } from '../src/server.ts';
import { assertMatchesOpenApi } from './openapi-check.ts';

/** A logger that keeps every line for assertions. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', sink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

/** A started server and where to reach it. */
export interface TestServer {
  readonly server: LiveOrdersServer;
  readonly base: string;
  readonly wsBase: string;
  readonly logLines: Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * Start a server on port 0. The caller closes it (`after(srv.close)` or `t.after(srv.close)`).
 * @param options overrides
 */
export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const { logger, lines } = captureLogger();
  const server = createServer({ port: 0, logger, ...options });
  const address = await server.listen();
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await server.close();
  };
  return {
    server,
    base: `http://127.0.0.1:${address.port}`,
    wsBase: `ws://127.0.0.1:${address.port}`,
    logLines: lines,
    close,
  };
}

/** JSON request helper returning status, headers and parsed body. */
export async function request(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: unknown; text: string }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      // Non-JSON bodies (the page) stay available as text.
      parsed = undefined;
    }
  }
  // Every JSON answer of the API matches the OpenAPI document (test/openapi-check.ts).
  if (parsed !== undefined) assertMatchesOpenApi(method, path, res.status, res.headers.get('content-type'), parsed);
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** A WebSocket client whose messages can be awaited one by one. */
/** Ping ids for {@link TestClient.sendAndSettle}, unique in the process. */
let settlePings = 0;

export class TestClient {
  readonly ws: WebSocket;
  readonly received: ServerMessage[] = [];
  /** Every event received, flattened from `events` frames, in arrival order. */
  readonly events: OrderEvent[] = [];
  readonly frames: string[] = [];
  #waiters: (() => void)[] = [];
  #cursor = 0;
  closeCode: number | undefined;
  closeReason = '';
  readonly closed: Promise<number>;

  constructor(url: string, options: WebSocket.ClientOptions = {}, protocols?: string[]) {
    this.ws = protocols === undefined ? new WebSocket(url, options) : new WebSocket(url, protocols, options);
    this.ws.on('message', (data: Buffer) => {
      const text = data.toString();
      this.frames.push(text);
      const parsed = parseServerMessage(text);
      if (!parsed.ok) throw new Error(`server sent an invalid message: ${text.slice(0, 200)}`);
      this.received.push(parsed.value);
      if (parsed.value.type === 'events') this.events.push(...parsed.value.events);
      this.#wake();
    });
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.#wake();
        resolve(code);
      });
    });
    this.ws.on('error', () => {
      // Connection failures surface through `opened()` or `closed`.
    });
  }

  /** Resolves once open; rejects with the HTTP status if the upgrade was refused. */
  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
  }

  /** Send a message (objects are JSON-encoded). */
  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /**
   * Send a message, then a ping, and wait for the pong: messages are
   * handled in order, so the pong means the first one was.
   * @param message what to send (objects are JSON-encoded)
   */
  async sendAndSettle(message: unknown): Promise<void> {
    const id = `settle-${++settlePings}`;
    this.send(message);
    this.send({ type: 'ping', id });
    await this.until(() => this.received.some((m) => m.type === 'pong' && m.id === id), `the pong ${id}`);
  }

  /**
   * The next message not yet consumed by `next`, optionally of one type.
   * @param type skip messages of other types
   * @param timeoutMs fail after this long
   */
  async next<T extends ServerMessage['type']>(type?: T, timeoutMs = 5000): Promise<Extract<ServerMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.#cursor < this.received.length) {
        const message = this.received[this.#cursor++]!;
        if (type === undefined || message.type === type) return message as Extract<ServerMessage, { type: T }>;
      }
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode}) while waiting for ${type ?? 'a message'}`);
      await this.#wait(deadline, type ?? 'a message');
    }
  }

  /**
   * Wait until `predicate` holds over what was received so far.
   * @param predicate checked after every message
   * @param what description for the timeout error
   * @param timeoutMs fail after this long
   */
  async until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode}) while waiting for ${what}`);
      await this.#wait(deadline, what);
    }
  }

  close(): void {
    this.ws.close();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #wait(deadline: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), Math.max(0, deadline - Date.now()));
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/**
 * Open a client and wait for its first snapshot.
 * @param url WebSocket URL
 */
export async function connect(url: string): Promise<{ client: TestClient; snapshot: Extract<ServerMessage, { type: 'snapshot' }> }> {
  const client = new TestClient(url);
  await client.opened();
  const snapshot = await client.next('snapshot');
  return { client, snapshot };
}

/**
 * Create an order over HTTP; checks the 201 and the tracking token that comes
 * with it, and returns the order as events and snapshots carry it (no token).
 * @param base the server's http:// base
 * @param name the customer name
 */
export async function postOrder(base: string, name = 'Ada'): Promise<Order> {
  const res = await request(base, 'POST', '/api/orders', orderBody(name));
  assert.equal(res.status, 201, res.text);
  const { trackingToken, ...order } = res.body as CreatedOrder;
  assert.match(trackingToken, /^[A-Za-z0-9_-]{22}$/);
  return order;
}

/** A valid order body for POST /api/orders. */
export function orderBody(name = 'John Doe', items: unknown[] = ['laptop', 'mouse']): Record<string, unknown> {
  return { customerName: name, items };
}

/**
 * Resolve once `predicate` holds, polling every 20 ms in real time.
 * @param predicate the condition
 * @param what what is awaited, for the timeout message
 * @param timeoutMs how long before failing
 */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Run `tasks` with at most `concurrency` in flight at a time.
 * @param concurrency how many at once
 * @param tasks the work, started in order
 * @returns each task's result, in the order of `tasks`
 */
export async function pool<T>(concurrency: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}
