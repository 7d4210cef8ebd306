/** The pure store: status machine, versions, seq, indexes and paging. No I/O. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALLOWED_TRANSITIONS, ORDER_STATUSES, type Order, type OrderEvent, type OrderStatus } from '../src/protocol.ts';
import { MemoryOrderStore, orderTotal } from '../src/store.ts';

/** A store with a fake clock that ticks 1 s per call and predictable ids. */
function fixedStore(): MemoryOrderStore {
  let t = Date.parse('2026-01-01T00:00:00Z');
  let n = 0;
  return new MemoryOrderStore({
    now: () => new Date((t += 1000)),
    newId: () => `00000000-0000-7000-8000-${String(++n).padStart(12, '0')}`,
  });
}

function createOrder(store: MemoryOrderStore, name = 'Ada'): string {
  const result = store.create({ customerName: name, items: [{ name: 'laptop', quantity: 1 }] });
  assert.ok(result.ok);
  return result.value.order.id;
}

/** Put a fresh order into `status` along the happy path. */
function orderIn(store: MemoryOrderStore, status: OrderStatus): string {
  const id = createOrder(store);
  if (status !== 'pending') assert.ok(store.changeStatus(id, status).ok);
  return id;
}

describe('status machine', () => {
  for (const from of ORDER_STATUSES) {
    for (const to of ORDER_STATUSES) {
      const legal = ALLOWED_TRANSITIONS[from].includes(to);
      test(`${from} -> ${to} is ${legal ? 'allowed' : 'refused'}`, () => {
        const store = fixedStore();
        const id = orderIn(store, from);
        const before = store.get(id)!;
        const seq = store.seq;
        const result = store.changeStatus(id, to);
        if (legal) {
          assert.ok(result.ok);
          assert.equal(result.value.order.status, to);
          assert.equal(result.value.order.version, before.version + 1);
          assert.deepEqual(
            result.value.order.history.map((h) => h.status),
            [...before.history.map((h) => h.status), to],
          );
          assert.deepEqual(result.value.event, { type: 'order.updated', seq: seq + 1, order: result.value.order, previousStatus: from });
        } else {
          assert.ok(!result.ok);
          assert.equal(result.error.code, 'LO_ERR_BAD_TRANSITION');
          assert.deepEqual(result.error.details.allowed, ALLOWED_TRANSITIONS[from]);
          assert.strictEqual(store.get(id), before, 'a refused move changes nothing');
          assert.equal(store.seq, seq, 'a refused move emits nothing');
        }
      });
    }
  }

  test('only delivered and cancelled are final, and skipping ahead is recorded', () => {
    assert.deepEqual(
      ORDER_STATUSES.filter((s) => ALLOWED_TRANSITIONS[s].length === 0),
      ['delivered', 'cancelled'],
    );
    const store = fixedStore();
    const id = orderIn(store, 'delivered');
    assert.deepEqual(
      store.get(id)!.history.map((h) => h.status),
      ['pending', 'delivered'],
    );
  });
});

describe('orders', () => {
  test('create normalises, stamps times, starts at version 1 and pending', () => {
    const store = fixedStore();
    const result = store.create({ customerName: 'Ada', customerEmail: 'ada@example.com', items: [{ name: 'laptop', quantity: 2, price: 999.99 }] });
    assert.ok(result.ok);
    const order = result.value.order;
    assert.equal(order.status, 'pending');
    assert.equal(order.version, 1);
    assert.equal(order.total, 1999.98);
    assert.equal(order.createdAt, '2026-01-01T00:00:01.000Z');
    assert.equal(order.updatedAt, order.createdAt);
    assert.deepEqual(order.history, [{ status: 'pending', at: order.createdAt }]);
    assert.deepEqual(result.value.event, { type: 'order.created', seq: 1, order });
  });

  test('total is present only when every item has a price, and is exact to the cent', () => {
    assert.equal(orderTotal({ items: [{ name: 'a', quantity: 3, price: 0.1 }, { name: 'b', quantity: 1, price: 0.2 }] }), 0.5);
    assert.equal(orderTotal({ items: [{ name: 'a', quantity: 1, price: 1 }, { name: 'b', quantity: 1 }] }), undefined);
    assert.equal(orderTotal({ items: [{ name: 'a', quantity: 1, price: 0 }] }), 0);
  });

  test('updatedAt moves with each change; createdAt does not', () => {
    const store = fixedStore();
    const id = createOrder(store);
    const created = store.get(id)!;
    const result = store.changeStatus(id, 'processing');
    assert.ok(result.ok);
    assert.equal(result.value.order.createdAt, created.createdAt);
    assert.ok(result.value.order.updatedAt > created.updatedAt);
    assert.equal(result.value.order.history[1]!.at, result.value.order.updatedAt);
  });

  test('expectedVersion guards status changes and deletes', () => {
    const store = fixedStore();
    const id = createOrder(store);
    const stale = store.changeStatus(id, 'processing', 2);
    assert.ok(!stale.ok);
    assert.equal(stale.error.code, 'LO_ERR_VERSION_MISMATCH');
    assert.equal(stale.error.details.currentVersion, 1);
    assert.ok(store.changeStatus(id, 'processing', 1).ok);
    const staleDelete = store.delete(id, 1);
    assert.ok(!staleDelete.ok);
    assert.equal(staleDelete.error.code, 'LO_ERR_VERSION_MISMATCH');
    assert.ok(store.delete(id, 2).ok);
    assert.equal(store.get(id), undefined);
  });

  test('unknown ids are NOT_FOUND for change and delete', () => {
    const store = fixedStore();
    const id = '00000000-0000-7000-8000-999999999999';
    const change = store.changeStatus(id, 'processing');
    const del = store.delete(id);
    assert.ok(!change.ok && !del.ok);
    assert.equal(change.error.code, 'LO_ERR_NOT_FOUND');
    assert.equal(del.error.code, 'LO_ERR_NOT_FOUND');
    assert.equal(store.seq, 0);
  });

  test('every change emits one event with a gap-free seq, in order, to every listener', () => {
    const store = fixedStore();
    const seen: OrderEvent[] = [];
    const seenToo: number[] = [];
    store.onEvent((e) => seen.push(e));
    const off = store.onEvent((e) => seenToo.push(e.seq));
    const a = createOrder(store);
    const b = createOrder(store);
    store.changeStatus(a, 'shipped');
    store.changeStatus(b, 'delivered'); // pending -> delivered is allowed (skip)
    store.changeStatus(b, 'cancelled'); // refused: delivered is final
    off();
    store.delete(a);
    assert.deepEqual(
      seen.map((e) => [e.seq, e.type]),
      [
        [1, 'order.created'],
        [2, 'order.created'],
        [3, 'order.updated'],
        [4, 'order.updated'],
        [5, 'order.deleted'],
      ],
    );
    assert.deepEqual(seenToo, [1, 2, 3, 4]);
    const deleted = seen[4]!;
    assert.equal(deleted.type, 'order.deleted');
    assert.equal(deleted.order.status, 'shipped', 'a delete carries the last state');
    assert.equal(store.seq, 5);
  });
});

describe('listing and counts', () => {
  test('newest first, cursor paging visits every order exactly once, totals and counts from indexes', () => {
    const store = fixedStore();
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push(createOrder(store, `c${i}`));
    for (const id of ids.slice(0, 10)) store.changeStatus(id, 'processing');
    for (const id of ids.slice(0, 3)) store.changeStatus(id, 'cancelled');
    store.delete(ids[24]!);

    assert.deepEqual(store.counts(), { pending: 14, processing: 7, shipped: 0, delivered: 0, cancelled: 3 });
    const all: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = store.list({ limit: 7, ...(cursor === undefined ? {} : { before: cursor }) });
      assert.equal(page.total, 24);
      all.push(...page.orders.map((o) => o.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined);
    assert.equal(pages, 4);
    assert.deepEqual(all, ids.slice(0, 24).reverse());
  });

  test('a status filter merges the per-status indexes newest first', () => {
    const store = fixedStore();
    const ids = Array.from({ length: 6 }, () => createOrder(store));
    store.changeStatus(ids[1]!, 'processing');
    store.changeStatus(ids[4]!, 'cancelled');
    const page = store.list({ view: { statuses: ['processing', 'cancelled'] }, limit: 10 });
    assert.deepEqual(page.orders.map((o) => o.id), [ids[4], ids[1]]);
    assert.equal(page.total, 2);
    assert.equal(page.nextCursor, undefined);
    const first = store.list({ view: { statuses: ['pending', 'cancelled'] }, limit: 2 });
    assert.deepEqual(first.orders.map((o) => o.id), [ids[5], ids[4]]);
    assert.equal(first.nextCursor, ids[4]);
    const second = store.list({ view: { statuses: ['pending', 'cancelled'] }, limit: 2, before: first.nextCursor! });
    assert.deepEqual(second.orders.map((o) => o.id), [ids[3], ids[2]]);
  });

  test('a cursor still works after its order was deleted', () => {
    const store = fixedStore();
    const ids = Array.from({ length: 5 }, () => createOrder(store));
    const page = store.list({ limit: 2 });
    store.delete(page.nextCursor!);
    const next = store.list({ limit: 10, before: page.nextCursor! });
    assert.deepEqual(next.orders.map((o) => o.id), [ids[2], ids[1], ids[0]]);
  });

  test('an order-id view lists at most that order', () => {
    const store = fixedStore();
    const id = createOrder(store);
    createOrder(store);
    assert.deepEqual(store.list({ view: { orderId: id }, limit: 10 }).orders.map((o) => o.id), [id]);
    assert.equal(store.list({ view: { orderId: id, statuses: ['shipped'] }, limit: 10 }).total, 0);
  });

  test('ids out of order (a clock step back) still list newest-id first', () => {
    const ids = ['00000000-0000-7000-8000-000000000003', '00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-000000000002'];
    let i = 0;
    const store = new MemoryOrderStore({ newId: () => ids[i++]! });
    for (let k = 0; k < 3; k++) createOrder(store);
    assert.deepEqual(store.list({ limit: 10 }).orders.map((o) => o.id), [...ids].sort().reverse());
  });
});

describe('timestamps', () => {
  test('are the clock\'s time in ISO 8601, also when several writes share a millisecond', () => {
    const times = [0, 0, 0, 1, 1, 86_400_000];
    let call = 0;
    const store = new MemoryOrderStore({ now: () => new Date(times[call++]!) });
    const first = store.create({ customerName: 'A', items: [{ name: 'x', quantity: 1 }] });
    const second = store.create({ customerName: 'B', items: [{ name: 'x', quantity: 1 }] });
    assert.ok(first.ok && second.ok);
    const moved = store.changeStatus(first.value.order.id, 'processing');
    const third = store.create({ customerName: 'C', items: [{ name: 'x', quantity: 1 }] });
    const movedAgain = store.changeStatus(first.value.order.id, 'shipped');
    const fourth = store.create({ customerName: 'D', items: [{ name: 'x', quantity: 1 }] });
    assert.ok(moved.ok && third.ok && movedAgain.ok && fourth.ok);
    assert.deepEqual(
      [first, second, third, fourth].map((r) => r.value.order.createdAt),
      ['1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.001Z', '1970-01-02T00:00:00.000Z'],
    );
    assert.equal(moved.value.order.updatedAt, '1970-01-01T00:00:00.000Z');
    assert.deepEqual(movedAgain.value.order.history.map((h) => h.at), ['1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.001Z']);
    // Orders created in one millisecond share their first history; changing one leaves the others' as they were.
    for (const created of [first, second, third, fourth]) {
      const { id, createdAt } = created.value.order;
      const stored: Order = id === first.value.order.id ? first.value.order : store.get(id)!;
      assert.deepEqual(stored.history, [{ status: 'pending', at: createdAt }]);
    }
  });

  test('a clock that returns an invalid date is refused, as toISOString refuses it', () => {
    const store = new MemoryOrderStore({ now: () => new Date(Number.NaN) });
    assert.throws(() => store.create({ customerName: 'A', items: [{ name: 'x', quantity: 1 }] }), RangeError);
    assert.equal(store.size, 0);
  });
});
