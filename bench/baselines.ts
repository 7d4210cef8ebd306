/**
 * The baselines the benchmarks compare against, run in the same server with
 * the same store and HTTP API, differing only in fan-out:
 *
 * - NaiveHub (a): what tutorials do. `JSON.stringify` and `ws.send` once per
 *   client per event, at the moment the event happens.
 * - FloorHub (b): the floor without coalescing. Each event is serialised and
 *   framed once, and those very bytes are written to every socket.
 * - BatchFloorHub (e): the floor with per-tick batching. The events of one
 *   event-loop turn are serialised once, framed once as one message, and
 *   those bytes are written to every socket: the least any server that
 *   coalesces a burst can do.
 * - bareHandler (c): a bare `node:http` handler that reads the body and
 *   answers a fixed JSON object: the ceiling for write throughput.
 * - keepHandler (d): parses the body and keeps the order in a Map, nothing
 *   else: the ceiling for a server that stores what it is sent.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { prepareMessage } from '../src/fanout/frame.ts';
import type { FanOut, HubStats, Subscriber } from '../src/fanout/hub.ts';
import { queueResponse } from '../src/transport/http/response-batch.ts';
import { encodeEvent, encodeEventsFrame, viewMatchesEvent, type OrderEvent, type View } from '../src/protocol.ts';

abstract class BaselineHub implements FanOut {
  protected readonly members = new Map<Subscriber, { view: View; afterSeq: number }>();
  protected eventsSent = 0;
  protected framesSent = 0;

  get size(): number {
    return this.members.size;
  }

  stats(): HubStats {
    return { subscribers: this.members.size, eventsSent: this.eventsSent, framesSent: this.framesSent };
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

/** (e) The events of one turn, serialised and framed once as one message; the same bytes to every socket. */
export class BatchFloorHub extends BaselineHub {
  #pending: OrderEvent[] = [];
  #scheduled = false;

  publish(event: OrderEvent): void {
    this.#pending.push(event);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }

  override flush(): void {
    this.#scheduled = false;
    const events = this.#pending;
    if (events.length === 0) return;
    this.#pending = [];
    const message = prepareMessage(encodeEventsFrame(events.map((event) => encodeEvent(event))));
    const first = events[0]!.seq;
    for (const [subscriber, member] of this.members) {
      // Watchers see everything; one that joined during this turn gets the events after its snapshot.
      const own = member.afterSeq < first ? message : prepareMessage(encodeEventsFrame(events.filter((e) => e.seq > member.afterSeq).map((e) => encodeEvent(e))));
      subscriber.send(own);
      this.eventsSent += events.length;
      this.framesSent++;
    }
  }
}

/** A request handler, as `node:http` calls it. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The answer the bare server sends: a real created order, with the headers liveorders sends. */
const BARE_BODY = Buffer.from(
  JSON.stringify({
    id: '01a2002e-3d94-7721-86ac-71d041fb9c46',
    customerName: 'Load',
    items: [{ name: 'laptop', quantity: 1 }, { name: 'mouse', quantity: 2, price: 19.99 }],
    status: 'pending',
    history: [{ status: 'pending', at: '2026-11-21T22:16:00.148Z' }],
    version: 1,
    createdAt: '2026-11-21T22:16:00.148Z',
    updatedAt: '2026-11-21T22:16:00.148Z',
    trackingToken: 'kE5Iw58TRuwd7MP0Q1eVAg',
  }),
);
const BARE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  ETag: '"1"',
  Location: '/api/orders/01a2002e-3d94-7721-86ac-71d041fb9c46',
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-store',
  'Content-Length': String(BARE_BODY.length),
};

/**
 * (c) The bare handler: reads the request body and answers a fixed JSON body.
 * The body is a real created order and the headers are the ones liveorders
 * sends, so the load generator (on the same two cores) spends the same effort
 * parsing either answer; the difference is the server's work.
 */
export function bareHandler(): RequestHandler {
  return (req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      res.writeHead(201, BARE_HEADERS);
      res.end(BARE_BODY);
    });
  };
}

/**
 * (d) The least a server that keeps what it is sent must do: parse the body,
 * build the order, serialise it, keep both in a Map and answer with it,
 * answers written at the end of the turn as liveorders writes them
 * (src/response-batch.ts). No validation, routing, ids, indexes, events or
 * tokens: the ceiling for any server that stores orders in memory.
 */
export function keepHandler(): RequestHandler {
  const kept = new Map<string, { order: object; json: string }>();
  let next = 0;
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const input = JSON.parse(Buffer.concat(chunks).toString()) as object;
      const at = new Date().toISOString();
      const order = { id: `order-${next++}`, ...input, status: 'pending', history: [{ status: 'pending', at }], version: 1, createdAt: at, updatedAt: at };
      const json = JSON.stringify(order);
      kept.set(order.id, { order, json });
      const body = Buffer.from(json);
      const fields = [
        'X-Content-Type-Options', 'nosniff',
        'ETag', '"1"',
        'Location', `/api/orders/${order.id}`,
        'Content-Type', 'application/json; charset=utf-8',
        'Cache-Control', 'no-store',
        'Content-Length', String(body.length),
      ];
      queueResponse(res, 201, fields, body);
    });
  };
}

/**
 * Serve `handler` on 127.0.0.1 (baselines c and d).
 * @param handler {@link bareHandler} or {@link keepHandler}
 * @param port 0 for any
 */
export async function startHandlerServer(handler: RequestHandler, port = 0): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}
