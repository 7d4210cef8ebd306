/**
 * CPU per `POST /api/orders` inside one process, without the network: real
 * `node:http` request and response objects on a socket that discards what is
 * written. Over loopback on this two-core machine every request also pays the
 * kernel and the load generator's wake-ups, and those scale with the server's
 * own cost (3-5 µs per µs measured here), so this figure is the one to
 * watch when changing the write path: it moves by a microsecond where the
 * throughput figure moves by noise.
 */

import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournalStorage } from '../src/store.ts';
import { createLogger } from '../src/support/logger.ts';
import { createServer } from '../src/server.ts';
import { bareHandler, keepHandler, type RequestHandler } from './baselines.ts';
import { serve } from './ipc.ts';

/** The request body of the write benchmarks. */
export const ORDER_BODY = JSON.stringify({ customerName: 'Load', items: ['laptop', { name: 'mouse', quantity: 2, price: 19.99 }] });

/** Requests in flight at once, as with the load generator's 50 connections. */
const CONCURRENCY = 50;

/** A connection that accepts and drops every write. */
class DiscardSocket extends Duplex {
  readonly remoteAddress = '127.0.0.1';
  override _read(): void {}
  override _write(_chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    callback();
  }
  override _writev(_chunks: unknown[], callback: () => void): void {
    callback();
  }
  setTimeout(): this {
    return this;
  }
}

/**
 * The handler for a variant: `bare` (c), `keep` (d) or `liveorders` (the
 * real server's request listener, not listening on any port).
 * @param variant which server
 */
export async function handlerFor(variant: 'bare' | 'keep' | 'liveorders' | 'journal'): Promise<RequestHandler> {
  if (variant === 'bare') return bareHandler();
  if (variant === 'keep') return keepHandler();
  const logger = createLogger({ level: 'error' });
  // `journal`: on a data folder of its own, removed when the process exits.
  const dir = variant === 'journal' ? mkdtempSync(join(tmpdir(), 'liveorders-handler-')) : undefined;
  if (dir !== undefined) process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const storage = dir === undefined ? undefined : await openJournalStorage({ dir, logger, onSinkError: () => undefined });
  const server = createServer({ port: 0, servePage: false, logger, ...(storage === undefined ? {} : { storage }) });
  return (req, res) => server.http.emit('request', req, res);
}

/** Run one POST through `handler`; resolves when the response has finished. */
function post(handler: RequestHandler, body: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = new DiscardSocket();
    const req = new IncomingMessage(socket as unknown as Socket);
    req.method = 'POST';
    req.url = '/api/orders';
    req.headers = { host: '127.0.0.1', 'content-type': 'application/json', 'content-length': String(body.length) };
    const res = new ServerResponse(req);
    res.assignSocket(socket as unknown as Socket);
    res.on('finish', () => {
      res.detachSocket(socket as unknown as Socket);
      resolve();
    });
    handler(req, res);
    // What the HTTP parser would do: the body, then the end of a complete message.
    req.complete = true;
    req.push(body);
    req.push(null);
  });
}

/**
 * CPU time (user + system) per request, in µs, over `count` requests, 50 in flight at a time.
 * @param handler the request handler
 * @param count how many requests
 */
export async function cpuPerRequest(handler: RequestHandler, count: number): Promise<number> {
  const body = Buffer.from(ORDER_BODY);
  const start = process.cpuUsage();
  for (let sent = 0; sent < count; sent += CONCURRENCY) {
    await Promise.all(Array.from({ length: CONCURRENCY }, () => post(handler, body)));
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}

// Forked by bench/run.ts with the variant as argv[2]: each variant gets a fresh process and heap,
// and the harness alternates rounds between them.
// Run directly (`node --import tsx bench/handler-cpu.ts liveorders 25000`) it sends that many requests and
// exits: under `valgrind --tool=callgrind`, two counts give instructions per request (BENCHMARKS.md).
const variant = process.argv[2];
if (variant === 'bare' || variant === 'keep' || variant === 'liveorders' || variant === 'journal') {
  const handler = await handlerFor(variant);
  if (process.send !== undefined) {
    serve({ run: ({ count }) => cpuPerRequest(handler, Number(count)) }, {});
  } else {
    const count = Number(process.argv[3] ?? 10_000);
    console.log(`${variant}: ${(await cpuPerRequest(handler, count)).toFixed(1)} µs CPU per POST over ${count}`);
    process.exit(0);
  }
}
