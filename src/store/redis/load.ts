/**
 * @module store/redis/load
 * What an instance starts from: every order, as of one seq, read without
 * stopping the writers. The orders hash is scanned in pieces while other
 * instances keep writing, so the scan alone is no state of any one moment;
 * the stream after the seq read before the scan started makes it one. Each
 * event after that seq is applied unless the scan already saw its order at
 * that version or later (versions only grow, ids are never reused), so the
 * result is exactly the state at the last event read, and the tail goes on
 * from there: nothing missed, nothing applied twice.
 */

import type { Product } from '../../domain/catalog.ts';
import type { LogEvent } from '../../domain/events.ts';
import type { Order } from '../../protocol/orders.ts';
import type { LoadedState } from '../ports.ts';
import { entryId, type RedisKeys } from './keys.ts';
import type { CommandSender } from './deadline.ts';
import { arrayReply, eventOf, integerReply, streamEntries, stringReply, UnexpectedReplyError } from './replies.ts';

/** Orders asked for per HSCAN, and events per XRANGE: big enough to be quick, small enough not to stall Redis. */
const BATCH = 1000;

/** Loads retried when the stream was trimmed past the seq a load started from (writes faster than the load). */
const LOAD_ATTEMPTS = 3;

/**
 * Read every order and the position it is as of.
 * @param connection a command connection
 * @param keys the history's keys
 * @param epoch the history's epoch
 */
export async function loadOrders(connection: CommandSender, keys: RedisKeys, epoch: string): Promise<LoadedState> {
  for (let attempt = 1; ; attempt++) {
    const start = integerReply((await connection.sendCommand(['GET', keys.seq])) ?? '0', 'seq');
    const orders = await scanOrders(connection, keys);
    const products = await readProducts(connection, keys);
    const seq = await catchUp(connection, keys, orders, products, start);
    if (seq !== undefined) return { orders: [...orders.values()], products: [...products.values()], position: { seq, epoch } };
    if (attempt === LOAD_ATTEMPTS) throw new Error(`the event stream ${keys.events} no longer holds the events after seq ${start}, three times: writes outrun the load; raise REDIS_STREAM_LENGTH`);
  }
}

/** Every order in the hash, as the scan met it. */
async function scanOrders(connection: CommandSender, keys: RedisKeys): Promise<Map<string, Order>> {
  const orders = new Map<string, Order>();
  let cursor = '0';
  do {
    const [next, fields] = arrayReply(await connection.sendCommand(['HSCAN', keys.orders, cursor, 'COUNT', String(BATCH)]), 'HSCAN');
    cursor = stringReply(next, 'HSCAN cursor') ?? '0';
    const pairs = arrayReply(fields, 'HSCAN fields');
    for (let i = 0; i < pairs.length; i += 2) {
      const order = parseStoredOrder(stringReply(pairs[i + 1], 'order') ?? '');
      orders.set(order.id, order);
    }
  } while (cursor !== '0');
  return orders;
}

/** Every product in the hash (the catalog is small: one call). */
async function readProducts(connection: CommandSender, keys: RedisKeys): Promise<Map<string, Product>> {
  const pairs = arrayReply(await connection.sendCommand(['HGETALL', keys.products]), 'HGETALL');
  const products = new Map<string, Product>();
  for (let i = 0; i < pairs.length; i += 2) {
    const stored = stringReply(pairs[i + 1], 'product') ?? '';
    const colon = stored.indexOf(':');
    const product = JSON.parse(stored.slice(colon + 1)) as Product;
    if (colon < 1 || typeof product?.sku !== 'string' || product.version !== Number(stored.slice(0, colon))) throw new UnexpectedReplyError('a product in Redis is not one this backend wrote');
    products.set(product.sku, product);
  }
  return products;
}

/**
 * Apply the events after `start` that the scan may have missed, to the end
 * of the stream. Returns the seq of the last event read, or `undefined`
 * when the stream no longer holds the event after `start`.
 */
async function catchUp(connection: CommandSender, keys: RedisKeys, orders: Map<string, Order>, products: Map<string, Product>, start: number): Promise<number | undefined> {
  let seq = start;
  for (;;) {
    const entries = streamEntries(await connection.sendCommand(['XRANGE', keys.events, `(${entryId(seq)}`, '+', 'COUNT', String(BATCH)]));
    // Trimming keeps the newest entries, so an empty answer means nothing after `seq`.
    if (entries.length === 0) return seq;
    for (const entry of entries) {
      if (entry.seq !== seq + 1) return undefined;
      applyTolerantly(orders, products, eventOf(entry));
      seq = entry.seq;
    }
  }
}

/** An event the scan may already reflect: applied only if it is newer than what the scan saw. */
function applyTolerantly(orders: Map<string, Order>, products: Map<string, Product>, event: LogEvent): void {
  if (event.type === 'product.changed' || event.type === 'product.deleted') {
    applyProduct(products, event.product, event.type === 'product.deleted');
    return;
  }
  for (const product of event.products ?? []) applyProduct(products, product, false);
  const held = orders.get(event.order.id);
  switch (event.type) {
    case 'order.created':
      if (held === undefined) orders.set(event.order.id, event.order);
      break;
    case 'order.updated':
      if (held === undefined || held.version < event.order.version) orders.set(event.order.id, event.order);
      break;
    case 'order.deleted':
      orders.delete(event.order.id);
      break;
  }
}

/** A product's change, unless the read of the hash already saw it (or a later one). */
function applyProduct(products: Map<string, Product>, product: Product, deleted: boolean): void {
  const held = products.get(product.sku);
  if (deleted) products.delete(product.sku);
  else if (held === undefined || held.version < product.version) products.set(product.sku, product);
}

/**
 * An order as the script stores it: `<version>:<order JSON>`.
 * @param stored the hash value
 */
export function parseStoredOrder(stored: string): Order {
  const colon = stored.indexOf(':');
  const order = JSON.parse(stored.slice(colon + 1)) as Order;
  if (colon < 1 || typeof order?.id !== 'string' || order.version !== Number(stored.slice(0, colon))) {
    throw new UnexpectedReplyError('an order in Redis is not one this backend wrote');
  }
  return order;
}
