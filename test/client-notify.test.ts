/**
 * The page's pure helpers for what it says: toast and announcement texts, the
 * batcher that throttles them, events per second from /api/stats, and form
 * messages as sentences.
 */

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { announcement, createBatcher, createdToast } from '../client/notify.ts';
import { eventsPerSecond } from '../client/stats.ts';
import { fieldSentence, sentence } from '../client/ui/form.ts';
import type { Order, OrderEvent } from '../src/protocol.ts';

const order = (name: string, id = '01a20001-9c5d-7309-a00f-d6f94e819b3b'): Order => ({
  id,
  customerName: name,
  items: [{ name: 'x', quantity: 1 }],
  status: 'pending',
  history: [{ status: 'pending', at: '2026-01-01T00:00:00.000Z' }],
  version: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});
const created = (seq: number, name = 'Ada'): OrderEvent => ({ type: 'order.created', seq, order: order(name) });

test('new-order toasts: one name, or a count', () => {
  assert.equal(createdToast([]), undefined);
  assert.equal(createdToast([order('Ada')]), 'New order from \u2068Ada\u2069', 'the name isolated (FSI ... PDI)');
  assert.equal(createdToast(Array.from({ length: 1200 }, (_, i) => order(`n${i}`))), '1,200 new orders');
});

test('announcements: up to three changes one by one, more as a count', () => {
  assert.equal(announcement([]), undefined);
  assert.equal(announcement([created(1)]), 'New order 4e819b3b from \u2068Ada\u2069.');
  const updated: OrderEvent = { type: 'order.updated', seq: 2, order: { ...order('Bo'), status: 'shipped' }, previousStatus: 'pending' };
  assert.equal(announcement([updated]), 'Order 4e819b3b for \u2068Bo\u2069 is now shipped.');
  assert.equal(announcement([created(1), created(2), created(3), updated]), '4 changes, 3 of them new orders.');
});

test('the batcher: a trailing window gathers, a hold postpones, a leading one flushes at once then throttles', (t: TestContext) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const flushed: number[][] = [];
  let holding = true;
  const trailing = createBatcher<number>(100, (items) => flushed.push(items), { hold: () => holding });
  trailing.add([1]);
  trailing.add([2, 3]);
  t.mock.timers.tick(100);
  assert.deepEqual(flushed, [], 'held');
  holding = false;
  t.mock.timers.tick(100);
  assert.deepEqual(flushed, [[1, 2, 3]]);

  const leading: number[][] = [];
  const throttled = createBatcher<number>(1000, (items) => leading.push(items), { leading: true });
  throttled.add([1]);
  assert.deepEqual(leading, [[1]], 'at once');
  for (let i = 2; i <= 500; i++) throttled.add([i]);
  assert.equal(leading.length, 1);
  t.mock.timers.tick(1000);
  assert.equal(leading.length, 2);
  assert.equal(leading[1]!.length, 499, 'the rest in one go');
  t.mock.timers.tick(1000);
  throttled.add([501]);
  assert.deepEqual(leading.at(-1), [501], 'idle again: at once');
});

test('events per second from two /api/stats polls of the same server run', () => {
  const sample = (seq: number, at: number, epoch = 'a') => ({ stats: { connections: 1, seq, epoch }, at });
  assert.equal(eventsPerSecond(undefined, sample(10, 0)), undefined);
  assert.equal(eventsPerSecond(sample(10, 0), sample(110, 2000)), 50);
  assert.equal(eventsPerSecond(sample(10, 0), sample(5, 2000, 'b')), undefined, 'a restart is no rate');
  assert.equal(eventsPerSecond(sample(10, 0), sample(10, 0)), undefined);
});

test('form messages read as sentences with grouped numbers', () => {
  assert.equal(fieldSentence({ field: 'items[0].quantity', message: 'must be an integer from 1 to 1000000' }, 'quantity'), 'Quantity must be a whole number from 1 to 1,000,000.');
  assert.equal(fieldSentence({ field: 'customerName', message: 'must not be empty' }, 'customerName'), 'Customer name must not be empty.');
  assert.equal(sentence('the server cannot be reached'), 'The server cannot be reached.');
  assert.equal(sentence('Done!'), 'Done!');
});
