/**
 * The baselines the benchmarks compare against, run in the same server with
 * the same store and HTTP API, differing only in fan-out:
 *
 * - NaiveHub (a): what tutorials do. `JSON.stringify` and `ws.send` once per
 *   client per event, at the moment the event happens.
 * - FloorHub (b): the floor without coalescing. Each event is serialised and
 *   framed once, and those very bytes are written to every socket.
 * - startBareServer (c): a bare `node:http` server that reads the body and
 *   answers a fixed JSON object: the ceiling for write throughput.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { prepareMessage } from '../src/frame.ts';
import type { FanOut, HubStats, Subscriber } from '../src/hub.ts';
import { encodeEvent, encodeEventsFrame, viewMatchesEvent, type OrderEvent, type View } from '../src/protocol.ts';

abstract class BaselineHub implements FanOut {
  protected readonly members = new Map<Subscriber, { view: View; afterSeq: number }>();
  protected eventsSent = 0;
  protected framesSent = 0;

  get size(): number {
    return this.members.size;
  }

  stats(): HubStats {
    return { subscribers: this.members.size, eventsSent: this.eventsSent, framesSent: this.framesSent, slowSubscribersDropped: 0 };
  }

  subscribe(subscriber: Subscriber, view: View, afterSeq: number): void {
    this.members.set(subscriber, { view, afterSeq });
  }

  unsubscribe(subscriber: Subscriber): void {
    this.members.delete(subscriber);
  }

  flush(): void {
    // Both baselines send synchronously in publish(): nothing is ever queued.
  }

  abstract publish(event: OrderEvent): void;
}

/** (a) One `JSON.stringify` and one `send` per client per event. */
export class NaiveHub extends BaselineHub {
  publish(event: OrderEvent): void {
    for (const [subscriber, member] of this.members) {
      if (event.seq <= member.afterSeq || !viewMatchesEvent(member.view, event)) continue;
      // No prepared frame: `ws` frames the text for this one socket, as `ws.send(string)` would.
      subscriber.send({ payload: Buffer.from(JSON.stringify({ type: 'events', events: [event] })) });
      this.eventsSent++;
      this.framesSent++;
    }
  }
}

/** (b) Serialise and frame each event once; write the same bytes to every socket; no coalescing. */
export class FloorHub extends BaselineHub {
  publish(event: OrderEvent): void {
    // Serialised and framed once; the server's socket adapter writes the frame bytes as they are.
    const message = prepareMessage(encodeEventsFrame([encodeEvent(event)]));
    for (const [subscriber, member] of this.members) {
      if (event.seq <= member.afterSeq || !viewMatchesEvent(member.view, event)) continue;
      subscriber.send(message);
      this.eventsSent++;
      this.framesSent++;
    }
  }
}

/**
 * (c) A bare HTTP server: reads the request body and answers a fixed JSON
 * body. The body is a real created order and the headers are the ones
 * liveorders sends, so the load generator (on the same two cores) spends the
 * same effort parsing either answer; the difference is the server's work.
 * @param port 0 for any
 */
export async function startBareServer(port = 0): Promise<{ server: Server; port: number }> {
  const body = Buffer.from(
    JSON.stringify({
      id: '01a2002e-3d94-7721-86ac-71d041fb9c46',
      customerName: 'Load',
      items: [{ name: 'laptop', quantity: 1 }, { name: 'mouse', quantity: 2, price: 19.99 }],
      status: 'pending',
      history: [{ status: 'pending', at: '2026-11-21T22:16:00.148Z' }],
      version: 1,
      createdAt: '2026-11-21T22:16:00.148Z',
      updatedAt: '2026-11-21T22:16:00.148Z',
    }),
  );
  const headers = {
    'X-Content-Type-Options': 'nosniff',
    ETag: '"1"',
    Location: '/api/orders/01a2002e-3d94-7721-86ac-71d041fb9c46',
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': String(body.length),
  };
  const server = createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      res.writeHead(201, headers);
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}
