/**
 * A TCP proxy for fault tests: sits between clients and the server, and can
 * cut every connection at once or refuse new ones, the way a flaky network
 * or a restarting load balancer would.
 */

import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpProxy {
  readonly #server: Server;
  readonly #pairs = new Set<[Socket, Socket]>();
  readonly #stalled = new Set<[Socket, Socket]>();
  #refusing = false;
  #targetPort: number;
  port = 0;
  /** Connections accepted so far (refused ones not counted). */
  accepted = 0;
  /** Connections refused so far. */
  refused = 0;

  private constructor(targetPort: number, maxDelayMs: number) {
    // `private` constructor: instances come from `start`, which awaits listen.
    this.#targetPort = targetPort;
    this.#server = createServer((client) => {
      if (this.#refusing) {
        this.refused++;
        client.destroy();
        return;
      }
      this.accepted++;
      const upstream = connect(this.#targetPort, '127.0.0.1');
      const pair: [Socket, Socket] = [client, upstream];
      this.#pairs.add(pair);
      const end = (): void => {
        this.#pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      if (maxDelayMs > 0) {
        forwardWithDelay(client, upstream, maxDelayMs);
        forwardWithDelay(upstream, client, maxDelayMs);
      } else {
        client.pipe(upstream);
        upstream.pipe(client);
      }
    });
  }

  /**
   * Listen on an ephemeral port and forward to `targetPort` on 127.0.0.1.
   * @param targetPort the real server's port
   * @param options.maxDelayMs hold each chunk back by a random 0..maxDelayMs (order is kept)
   */
  static async start(targetPort: number, options: { maxDelayMs?: number } = {}): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort, options.maxDelayMs ?? 0);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    const address = proxy.#server.address();
    proxy.port = typeof address === 'object' && address !== null ? address.port : 0;
    return proxy;
  }

  /**
   * Forward new connections to another port (a server restarted elsewhere, as a load balancer would see it).
   * @param targetPort the new server's port
   */
  retarget(targetPort: number): void {
    this.#targetPort = targetPort;
  }

  /** Number of live proxied connections. */
  get connections(): number {
    return this.#pairs.size;
  }

  /** Cut every connection abruptly (no close frame, no FIN from the server). */
  dropAll(): void {
    for (const [client, upstream] of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.#pairs.clear();
  }

  /** Cut one connection chosen at random; returns whether there was one. */
  dropOne(): boolean {
    const pairs = [...this.#pairs];
    const pair = pairs[Math.floor(Math.random() * pairs.length)];
    if (pair === undefined) return false;
    this.#pairs.delete(pair);
    pair[0].destroy();
    pair[1].destroy();
    return true;
  }

  /**
   * Stop forwarding on every current connection without closing it: to both
   * ends the other has gone silent (a dead route, a hung server). New
   * connections still work.
   */
  stall(): void {
    for (const [client, upstream] of this.#pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
      this.#stalled.add([client, upstream]);
    }
    this.#pairs.clear();
  }

  /**
   * {@link stall} only the connection whose upstream end has this local
   * port (what the server sees as the client's port).
   * @param port the upstream socket's local port
   * @returns whether there was such a connection
   */
  stallUpstreamPort(port: number): boolean {
    for (const pair of this.#pairs) {
      const [client, upstream] = pair;
      if (upstream.localPort !== port) continue;
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
      this.#pairs.delete(pair);
      this.#stalled.add(pair);
      return true;
    }
    return false;
  }

  /** While true, new connections are accepted and immediately closed. */
  refuse(on: boolean): void {
    this.#refusing = on;
  }

  async close(): Promise<void> {
    this.dropAll();
    for (const [client, upstream] of this.#stalled) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Forward `from` to `to`, each chunk after a random delay; one queue per direction keeps the order. */
function forwardWithDelay(from: Socket, to: Socket, maxDelayMs: number): void {
  const queue: { at: number; chunk: Buffer }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const pump = (): void => {
    timer = undefined;
    while (queue.length > 0 && queue[0]!.at <= Date.now()) {
      const { chunk } = queue.shift()!;
      if (!to.destroyed) to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(pump, queue[0]!.at - Date.now());
  };
  from.on('data', (chunk: Buffer) => {
    const last = queue.at(-1)?.at ?? 0;
    queue.push({ at: Math.max(last, Date.now() + Math.random() * maxDelayMs), chunk });
    if (timer === undefined) timer = setTimeout(pump, queue[0]!.at - Date.now());
  });
}
