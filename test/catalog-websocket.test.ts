/**
 * The catalog over WebSocket: staff connections are sent `productUpdated`
 * for a restock, a price change and the stock an order reserves or a
 * cancel gives back, after the order's own event; an unfiltered stream
 * stays gap-free; a customer tracking connection is sent none; an order
 * refused for short stock over the socket gets an `error` with the
 * shortages. Real server, real WebSocket clients.
 */

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { initialState, reduce } from '../client/state.ts';
import { parseServerMessage, type CreatedOrder, type Product } from '../src/protocol.ts';
import { TestClient, connect, request, startServer } from './helpers.ts';

const srv = await startServer();
after(() => srv.close());

test('productUpdated for restocks, prices and reservations, in order after the order event; gap-free; none to tracking sockets; shortages in the error', async () => {
  const { client } = await connect(`${srv.wsBase}/ws`);
  assert.equal((await request(srv.base, 'POST', '/api/products', { sku: 'PEN', name: 'Pen', priceCents: 150, stock: 2 })).status, 201);
  const created = await client.next();
  assert.equal(created.type, 'productUpdated');
  assert.deepEqual(created.type === 'productUpdated' && [created.seq, created.product.stock, created.product.priceCents], [1, 2, 150]);

  const order = (await request(srv.base, 'POST', '/api/orders', { customerName: 'Ada', lines: [{ sku: 'PEN', quantity: 2 }] })).body as CreatedOrder;
  const tracking = await connect(`${srv.wsBase}/ws?track=${order.trackingToken}`);
  const events = await client.next();
  assert.equal(events.type, 'events');
  assert.equal(events.type === 'events' && events.events[0]?.seq, 2);
  const reserved = await client.next();
  assert.ok(reserved.type === 'productUpdated');
  assert.deepEqual([reserved.seq, reserved.product.stock], [2, 0], 'the stock the order reserved, with the seq of its event');

  assert.equal((await request(srv.base, 'PATCH', '/api/products/PEN', { priceCents: 175 })).status, 200);
  const priced = await client.next();
  assert.ok(priced.type === 'productUpdated');
  assert.deepEqual([priced.seq, priced.product.priceCents], [3, 175]);

  // Short stock over the socket: an error with the shortages, nothing changed.
  client.send({ type: 'createOrder', requestId: 'r1', order: { customerName: 'Bob', lines: [{ sku: 'PEN', quantity: 1 }] } });
  const refused = await client.next();
  assert.ok(refused.type === 'error');
  assert.equal(refused.code, 'LO_ERR_OUT_OF_STOCK');
  assert.deepEqual(refused.shortages, [{ sku: 'PEN', requested: 1, available: 0 }]);

  assert.equal((await request(srv.base, 'PATCH', `/api/orders/${order.id}/status`, { status: 'cancelled' })).status, 200);
  const cancelled = await client.next();
  assert.ok(cancelled.type === 'events' && cancelled.events[0]?.seq === 4);
  const released = await client.next();
  assert.ok(released.type === 'productUpdated');
  assert.deepEqual([released.seq, released.product.stock], [4, 2]);
  assert.equal(((await request(srv.base, 'GET', '/api/products/PEN')).body as Product).stock, 2);

  // The page's state over everything the staff socket got: no gap, at the last seq.
  const state = client.received.reduce(reduce, initialState());
  assert.equal(state.outOfSync, false);
  assert.equal(state.seq, 4);

  // The tracking connection saw its order's events only, up to the cancel.
  await tracking.client.until(() => tracking.client.received.some((m) => m.type === 'events' && m.events.some((e) => e.order.status === 'cancelled')), 'the cancel on the tracking socket');
  assert.ok(tracking.client.received.every((m) => m.type !== 'productUpdated'), 'no productUpdated to a customer');
  const parsed = parseServerMessage(JSON.stringify(released));
  assert.ok(parsed.ok, 'clients parse productUpdated');
  const bad = parseServerMessage(JSON.stringify({ ...released, product: { sku: 'PEN' } }));
  assert.ok(!bad.ok, 'and refuse one without a product');
  client.close();
  tracking.client.close();
});

test('a resume across catalog changes replays them as productUpdated between the events, so an unfiltered client sees no gap', async () => {
  const first = await connect(`${srv.wsBase}/ws`);
  const start = first.snapshot;
  first.client.close();
  assert.equal((await request(srv.base, 'POST', '/api/products', { sku: 'INK', name: 'Ink', priceCents: 300, stock: 4 })).status, 201);
  const ordered = await request(srv.base, 'POST', '/api/orders', { customerName: 'Resumer', lines: [{ sku: 'INK', quantity: 1 }] });
  assert.equal(ordered.status, 201);
  assert.equal((await request(srv.base, 'POST', '/api/products/INK/stock', { delta: 3 })).status, 200);
  const plain = await request(srv.base, 'POST', '/api/orders', { customerName: 'Plain', items: ['pencil'] });
  assert.equal(plain.status, 201);
  const client = new TestClient(`${srv.wsBase}/ws?since=${start.seq}&epoch=${start.epoch}`);
  await client.until(() => client.events.some((e) => e.order.customerName === 'Plain'), 'the replay');
  assert.equal(client.received[0]?.type, 'resumed');
  const seqs = client.received.flatMap((m) => (m.type === 'events' ? m.events.map((e) => e.seq) : m.type === 'productUpdated' ? [m.seq] : []));
  assert.deepEqual(seqs, [start.seq + 1, start.seq + 2, start.seq + 3, start.seq + 4], 'every seq, in order');
  const state = client.received.reduce(reduce, { ...initialState(), synced: true, epoch: start.epoch, seq: start.seq });
  assert.equal(state.outOfSync, false);
  assert.equal(state.seq, start.seq + 4);
  client.close();
});

